import { Command } from 'commander';
import { promises as fs } from 'fs';
import * as path from 'path';
import { AudioService } from '../../../gateway/src/audio/audio.service';
import { registerMelCommand } from '../../../gateway/src/cli/mel.command';
import { FfmpegRunner } from '../../../gateway/src/media/ffmpeg-runner';
import { MEL_REFERENCE, pythonEval, speech16k, tempDir } from '../../helpers/audio-clips';

/** Runs `lipsync mel …` in-process; returns the exit code and what went to stderr. */
async function runMel(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const program = new Command('lipsync').exitOverride().configureOutput({ writeErr: () => undefined });
  registerMelCommand(program, {
    createAudio: () => new AudioService(new FfmpegRunner(), { maxAudioSeconds: 600 }),
    writeError: (s) => (stderr += s),
  });
  const before = process.exitCode;
  process.exitCode = undefined;
  try {
    await program.parseAsync(['mel', ...args], { from: 'user' });
    return { code: typeof process.exitCode === 'number' ? process.exitCode : 0, stderr };
  } finally {
    process.exitCode = before;
  }
}

// python loads the file with np.load and compares it with its own reference computation
const CHECK = `
import json, subprocess, sys, numpy as np
sys.path.insert(0, sys.argv[1]); import wav2lip_mel_reference as ref
arr = np.load(sys.argv[2])
with open(sys.argv[2], 'rb') as f: raw = f.read(10); hl = int.from_bytes(raw[8:10], 'little')
_, pcm = ref.read_wav_pcm16(sys.argv[3]); mel = ref.mel(pcm)
if sys.argv[4] == 'mel': expect = mel
else:
    w = ref.windows(mel.shape[1], float(sys.argv[4]))['gateway']
    expect = np.stack([mel[:, s:s + 16] for s in w])[:, None]
print(json.dumps({'shape': list(arr.shape), 'dtype': str(arr.dtype), 'c': bool(arr.flags['C_CONTIGUOUS']), 'aligned': (10 + hl) % 64 == 0,
  'maxdiff': float(np.abs(arr.astype(np.float64) - expect).max()) if arr.shape == expect.shape else None, 'expect': list(expect.shape)}))
`;

describe('lipsync mel', () => {
  let dir: string;
  let wav: string;

  beforeAll(async () => {
    dir = await tempDir('mel-cli-');
    wav = await speech16k(dir, 'Write the mel to numpy.');
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  async function pyCheck(npy: string, mode: string) {
    return JSON.parse(await pythonEval(CHECK, [path.dirname(MEL_REFERENCE), npy, wav, mode])) as {
      shape: number[];
      dtype: string;
      c: boolean;
      aligned: boolean;
      maxdiff: number | null;
      expect: number[];
    };
  }

  it('should write [80, T] float32 that np.load reads with the reference values', async () => {
    const out = path.join(dir, 'mel.npy');
    const r = await runMel([wav, '--out', out]);
    expect(r).toEqual({ code: 0, stderr: '' });
    const check = await pyCheck(out, 'mel');
    expect(check.shape).toEqual(check.expect);
    expect(check.shape[0]).toBe(80);
    expect(check).toMatchObject({ dtype: 'float32', c: true, aligned: true });
    expect(check.maxdiff).toBeLessThanOrEqual(1e-3);
  });

  it.each([25, 30])('should write the windows [N, 1, 80, 16] with --windows --fps %i', async (fps) => {
    const out = path.join(dir, `win${fps}.npy`);
    const r = await runMel([wav, '--out', out, '--windows', '--fps', String(fps)]);
    expect(r.code).toBe(0);
    const check = await pyCheck(out, String(fps));
    expect(check.shape).toEqual(check.expect);
    expect(check.shape.slice(1)).toEqual([1, 80, 16]);
    expect(check.dtype).toBe('float32');
    expect(check.maxdiff).toBeLessThanOrEqual(1e-3);
  });

  it('should exit 2 with one error line and leave no file for input that is not audio', async () => {
    const bad = path.join(dir, 'bad.wav');
    await fs.writeFile(bad, 'plain text, not a wave file\n');
    const outDir = await tempDir('mel-cli-out-');
    const r = await runMel([bad, '--out', path.join(outDir, 'x.npy')]);
    expect(r.code).toBe(2);
    // text is refused by content before ffmpeg reads it (issue 10: pinned demuxers)
    expect(r.stderr).toMatch(/^error UNSUPPORTED_MEDIA: .+\n$/);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(await fs.readdir(outDir)).toEqual([]);
    await fs.rm(outDir, { recursive: true });
  });

  it('should exit 2 with VALIDATION_FAILED for a missing input', async () => {
    const r = await runMel([path.join(dir, 'nope.mp3'), '--out', path.join(dir, 'nope.npy')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error VALIDATION_FAILED: /);
    await expect(fs.stat(path.join(dir, 'nope.npy'))).rejects.toThrow();
  });

  it('should exit 2 with OUTPUT_UNWRITABLE when the output folder does not exist', async () => {
    const r = await runMel([wav, '--out', path.join(dir, 'no-such-dir', 'x.npy')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error OUTPUT_UNWRITABLE: /);
  });

  it('should refuse a bad --fps and a missing --out as usage errors', async () => {
    await expect(runMel([wav, '--out', path.join(dir, 'f.npy'), '--fps', '0'])).rejects.toMatchObject({
      code: 'commander.invalidArgument',
    });
    await expect(runMel([wav])).rejects.toMatchObject({ code: 'commander.missingMandatoryOptionValue' });
  });
});
