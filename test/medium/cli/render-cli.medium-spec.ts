import { execFile, spawn } from 'child_process';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ASTRONAUT, ASTRONAUT_VIDEO, REPO_ROOT, ffprobe, makeSpeech, runFfmpeg } from '../../helpers/media';

/** `lipsync render` through the real entry point (bin/lipsync.js → dist/), as a user runs it. */
function lipsync(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(REPO_ROOT, 'bin', 'lipsync.js'), ...args], { env, maxBuffer: 1 << 24 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('lipsync render (CLI)', () => {
  let work: string;
  let env: NodeJS.ProcessEnv;
  let speech: string;

  beforeAll(async () => {
    await fs.access(path.join(REPO_ROOT, 'dist', 'cli', 'lipsync.js')); // scripts/test.sh builds before the tests
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'render-cli-'));
    env = { ...process.env, DATA_DIR: path.join(work, 'data'), BATCH_SIZE: '16' };
    speech = path.join(work, 'speech.wav');
    await makeSpeech(speech, 1);
  });
  afterAll(() => fs.rm(work, { recursive: true, force: true }));

  it('should render spoken --text into an MP4 and print the result as JSON, with the demo-model notice on stderr', async () => {
    const out = path.join(work, 'text.mp4');
    const r = await lipsync(['render', '--face', ASTRONAUT, '--text', 'Hi there', '--out', out, '--fps', '20', '--json'], env);
    expect(r.stderr).toMatch(/DEMO model/);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.fps).toBe(20);
    expect(result.peakRssMb).toBeGreaterThan(0);
    expect(result.model).toMatchObject({ name: 'wav2lip-demo-seed0', origin: 'demo', licence: expect.stringMatching(/random weights/) });
    const probe = await ffprobe(out);
    expect(probe.streams.map((s) => s.codec_type).sort()).toEqual(['audio', 'video']);
    expect(Number(probe.streams.find((s) => s.codec_type === 'video')!.nb_frames)).toBe(result.frames);
  });

  it("should keep a video avatar's own frame rate when --fps is not given (issue 10, item 10)", async () => {
    // the fixture at 12 fps, so the old default of 25 would show
    const clip = path.join(work, 'sway-12fps.mp4');
    await runFfmpeg(['-i', ASTRONAUT_VIDEO, '-r', '12', '-an', clip]);
    const out = path.join(work, 'video-rate.mp4');
    const r = await lipsync(['render', '--face', clip, '--audio', speech, '--out', out, '--backend', 'fake', '--json'], env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).fps).toBe(12);
    expect((await ffprobe(out)).streams.find((s) => s.codec_type === 'video')!.r_frame_rate).toBe('12/1');
  });

  it('should print the per-stage table after a render', async () => {
    const r = await lipsync(['render', '--face', ASTRONAUT, '--audio', speech, '--out', path.join(work, 'table.mp4')], env);
    expect(r.code).toBe(0);
    for (const stage of ['decode', 'mel', 'detect', 'prepare', 'infer', 'composite', 'encode', 'total'])
      expect(r.stdout).toMatch(new RegExp(`^\\s+${stage}\\s+\\d+`, 'm'));
    expect(r.stdout).toMatch(/frames\/s/);
    expect(r.stdout).toMatch(/^ {2}model wav2lip-demo-seed0 \(fp32\), demo: demo model: seeded random weights/m);
  });

  it('should cancel on SIGTERM: exit 143, ffmpeg gone, no partial output', async () => {
    const dir = path.join(work, 'sigterm');
    await fs.mkdir(dir);
    const long = path.join(work, 'long.wav');
    await makeSpeech(long, 6);
    const child = spawn(
      process.execPath,
      [
        path.join(REPO_ROOT, 'bin', 'lipsync.js'),
        'render',
        '--face',
        ASTRONAUT,
        '--audio',
        long,
        '--out',
        path.join(dir, 'x.mp4'),
        '--batch',
        '4',
      ],
      { env },
    );
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // the encoder has started once its temp output exists
    for (let i = 0; i < 600 && !(await fs.readdir(dir)).some((f) => f.endsWith('.partial.mp4')); i++)
      await new Promise((r) => setTimeout(r, 100));
    expect((await fs.readdir(dir)).some((f) => f.endsWith('.partial.mp4'))).toBe(true);
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(stderr).toMatch(/interrupted \(SIGTERM\)/);
    expect(await fs.readdir(dir)).toEqual([]);
  });

  it.each([
    [
      'a missing face file',
      (w: string, s: string) => ['--face', path.join(w, 'none.png'), '--audio', s],
      /error VALIDATION_FAILED: face file not found/,
      {},
    ],
    [
      'both --audio and --text',
      (_w: string, s: string) => ['--face', ASTRONAUT, '--audio', s, '--text', 'hi'],
      /error VALIDATION_FAILED: give exactly one/,
      {},
    ],
    [
      'an unwritable output directory',
      (_w: string, s: string) => ['--face', ASTRONAUT, '--audio', s, '--out', '/proc/nope/x.mp4'],
      /error OUTPUT_UNWRITABLE/,
      {},
    ],
    [
      'an invalid environment',
      (_w: string, s: string) => ['--face', ASTRONAUT, '--audio', s],
      /error CONFIG: invalid configuration:\n\s+BATCH_SIZE/,
      { BATCH_SIZE: '999' },
    ],
    ['an unknown option', (_w: string, s: string) => ['--face', ASTRONAUT, '--audio', s, '--speed', '2'], /unknown option/, {}],
    ['a bad --box', (_w: string, s: string) => ['--face', ASTRONAUT, '--audio', s, '--box', '1,2,3'], /--box must be four/, {}],
  ])('should exit 2 with a one error line and no output file for %s', async (_name, args, message, extraEnv: Record<string, string>) => {
    // every row has the same four columns: jest takes a longer parameter list for a `done` callback
    const out = path.join(work, 'bad.mp4');
    const argv = ['render', ...args(work, speech)];
    if (!argv.includes('--out')) argv.push('--out', out);
    const r = await lipsync(argv, { ...env, ...extraEnv });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.split('\n').filter((l) => /^error/.test(l))).toHaveLength(1);
    expect(r.stderr).not.toMatch(/Usage:/);
    await expect(fs.access(out)).rejects.toThrow();
  });
});
