import { GatewayError } from '../../../gateway/src/common/errors';
import { FfmpegRunner } from '../../../gateway/src/media/ffmpeg-runner';

const FRAME = new Uint8Array(64 * 64 * 3);
const rawIn = ['-hide_banner', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', '64x64', '-framerate', '25', '-i', 'pipe:0'];

async function writeUntilFailure(
  sut: FfmpegRunner,
  args: string[],
  signal?: AbortSignal,
  afterFrame?: (i: number) => void,
): Promise<unknown> {
  const proc = sut.open(args, { signal });
  try {
    for (let i = 0; i < 2000; i++) {
      await proc.write(FRAME);
      afterFrame?.(i);
    }
    await proc.end();
    return 'finished';
  } catch (err) {
    await proc.kill();
    return err;
  }
}

describe(`${FfmpegRunner.name} with real ffmpeg`, () => {
  const sut = new FfmpegRunner();

  it('should report a dying encoder as FFMPEG_FAILED with its stderr, not as a pipe error', async () => {
    const err = await writeUntilFailure(sut, [...rawIn, '-i', 'file:/nonexistent/speech.wav', '-f', 'mp4', '/tmp/never-written.mp4']);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('FFMPEG_FAILED');
    // stderr is kept for the logs (details), never put into the client-facing message
    expect((err as GatewayError).details?.stderr).toMatch(/No such file or directory/);
    expect((err as GatewayError).message).not.toMatch(/No such file|\//);
  });

  it('should end with CANCELLED and a dead process when the signal aborts mid-stream', async () => {
    const ac = new AbortController();
    const err = await writeUntilFailure(sut, [...rawIn, '-f', 'null', '-'], ac.signal, (i) => i === 20 && ac.abort());
    expect(err).toMatchObject({ code: 'CANCELLED' });
  });

  it('should encode all frames and exit 0 when nothing goes wrong', async () => {
    const proc = sut.open([...rawIn, '-frames:v', '1000', '-f', 'null', '-']);
    for (let i = 0; i < 50; i++) await proc.write(FRAME);
    const res = await proc.end();
    expect(res.stderr).not.toMatch(/error/i);
    expect(await proc.exited).toBe(0);
  });

  it('should say which binary could not be started', async () => {
    const broken = new FfmpegRunner({ ffmpegPath: '/nonexistent/ffmpeg', ffprobePath: '/nonexistent/ffprobe' });
    await expect(broken.run(['-version'])).rejects.toMatchObject({ code: 'FFMPEG_FAILED', message: 'cannot start ffmpeg (ENOENT)' });
  });

  it('should kill a stalled ffmpeg at its timeout with DEADLINE_EXCEEDED (issue 10, item 6)', async () => {
    // reads a real-time source that never ends: only the timeout stops it
    const err = await sut
      .run(['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'anullsrc=r=8000:cl=mono', '-f', 'null', '-'], {
        timeoutMs: 500,
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('DEADLINE_EXCEEDED');
  });
});
