import { GatewayError } from '../../../gateway/src/common/errors';
import { decodeArgs, decodeVideo, GrowableBuffer, initialFrames, parseVideoProbe } from '../../../gateway/src/face/video-frames';
import { pinnedFormatOf } from '../../../gateway/src/media/demuxer-allowlist';
import { FfmpegRunner, RunOptions, RunResult } from '../../../gateway/src/media/ffmpeg-runner';

const probeJson = (stream: Record<string, unknown>, format: Record<string, unknown> = {}) =>
  JSON.stringify({ streams: [{ codec_type: 'video', ...stream }], format: { format_name: 'mov,mp4,m4a,3gp,3g2,mj2', ...format } });
const MP4 = pinnedFormatOf({ kind: 'video', format: 'mp4' })!;

/** Strict fake: one scripted probe answer and one scripted ffmpeg answer. */
class FakeRunner extends FfmpegRunner {
  readonly runs: { args: string[]; opts: RunOptions }[] = [];
  constructor(
    private readonly probeOut: string,
    private readonly runOut?: Buffer,
  ) {
    super();
  }
  async probe(): Promise<RunResult> {
    return { stdout: Buffer.from(this.probeOut), stderr: '' };
  }
  async stream(args: string[], onData: (chunk: Buffer) => void, opts: RunOptions = {}): Promise<RunResult> {
    this.runs.push({ args, opts });
    if (!this.runOut) throw new Error('FakeRunner: unexpected stream()');
    // odd-sized chunks, as a pipe delivers them
    for (let at = 0; at < this.runOut.length; at += 7) onData(this.runOut.subarray(at, at + 7));
    return { stdout: Buffer.alloc(0), stderr: '' };
  }
}

const limits = { maxVideoSeconds: 10, maxVideoFrames: 100, maxVideoBytes: 1 << 30, maxPixels: 4096 * 4096 };

describe('video-frames', () => {
  describe(parseVideoProbe.name, () => {
    it('should read size, frame rate and duration', () => {
      const info = parseVideoProbe(probeJson({ width: 640, height: 360, avg_frame_rate: '30000/1001', duration: '2.002' }));
      expect(info).toEqual({ width: 640, height: 360, fps: 30000 / 1001, duration: 2.002 });
    });
    it('should swap the size for a quarter-turn display matrix and fall back to r_frame_rate / format duration', () => {
      const info = parseVideoProbe(
        probeJson(
          { width: 640, height: 360, avg_frame_rate: '0/0', r_frame_rate: '25/1', side_data_list: [{ rotation: -90 }] },
          { duration: '3.5' },
        ),
      );
      expect(info).toEqual({ width: 360, height: 640, fps: 25, duration: 3.5 });
    });
    it('should return undefined without a video stream', () => {
      expect(parseVideoProbe(JSON.stringify({ streams: [] }))).toBeUndefined();
    });
  });

  it('decodeArgs should ask for even-cropped RGB24 raw frames at a constant rate, one more than the cap', () => {
    const args = decodeArgs('/x/in.mp4', { width: 641, height: 361, fps: 25 }, 50, MP4).join(' ');
    expect(args).toContain('-f mov -protocol_whitelist file,pipe -i file:/x/in.mp4');
    expect(args).toContain('crop=trunc(iw/2)*2:trunc(ih/2)*2:0:0');
    expect(args).toContain('-frames:v 51');
    expect(args).toContain('-r 25');
    expect(args).toMatch(/-f rawvideo -pix_fmt rgb24 pipe:1$/);
  });

  describe(decodeVideo.name, () => {
    it('should split the raw output into even-sized frames', async () => {
      const frameBytes = 4 * 2 * 3; // 5x3 → 4x2
      const raw = Buffer.alloc(frameBytes * 3);
      for (let i = 0; i < 3; i++) raw.fill(i + 1, i * frameBytes, (i + 1) * frameBytes);
      const runner = new FakeRunner(probeJson({ width: 5, height: 3, avg_frame_rate: '10/1', duration: '0.3' }), raw);
      const v = await decodeVideo(runner, 'in.mp4', limits, MP4);
      expect([v.width, v.height, v.fps, v.frames.length]).toEqual([4, 2, 10, 3]);
      expect(v.frames.map((f) => [f.length, f[0], f[f.length - 1]])).toEqual([
        [24, 1, 1],
        [24, 2, 2],
        [24, 3, 3],
      ]);
      // one buffer for all frames, back to back (no per-frame copies)
      expect(new Set(v.frames.map((f) => f.buffer)).size).toBe(1);
      expect(v.frames.map((f) => f.byteOffset - v.frames[0].byteOffset)).toEqual([0, frameBytes, 2 * frameBytes]);
    });

    it('should grow the buffer when the container under-reports its duration', async () => {
      const frameBytes = 4 * 2 * 3;
      const raw = Buffer.alloc(frameBytes * 9, 7);
      const runner = new FakeRunner(probeJson({ width: 4, height: 2, avg_frame_rate: '10/1', duration: '0.1' }), raw);
      const v = await decodeVideo(runner, 'in.mp4', limits, MP4);
      expect(v.frames).toHaveLength(9);
      expect(v.frames.every((f) => f.every((b) => b === 7))).toBe(true);
    });

    it('should refuse a video longer than maxVideoSeconds before decoding', async () => {
      const runner = new FakeRunner(probeJson({ width: 64, height: 64, avg_frame_rate: '25/1', duration: '10.5' }));
      await expect(decodeVideo(runner, 'in.mp4', limits, MP4)).rejects.toMatchObject({ code: 'VIDEO_TOO_LONG' });
      expect(runner.runs).toHaveLength(0);
    });

    it('should refuse more frames than the cap (byte cap included)', async () => {
      const frameBytes = 64 * 64 * 3;
      const runner = new FakeRunner(probeJson({ width: 64, height: 64, avg_frame_rate: '25/1' }), Buffer.alloc(frameBytes * 5));
      const err = await decodeVideo(runner, 'in.mp4', { ...limits, maxVideoBytes: frameBytes * 4 }, MP4).catch((e) => e);
      expect(err).toBeInstanceOf(GatewayError);
      expect(err.code).toBe('VIDEO_TOO_LONG');
      expect(runner.runs[0].args.join(' ')).toContain('-frames:v 5');
    });

    it('should refuse frames with too many pixels and files without a video stream', async () => {
      const big = new FakeRunner(probeJson({ width: 5000, height: 5000, avg_frame_rate: '25/1' }));
      await expect(decodeVideo(big, 'in.mp4', limits, MP4)).rejects.toMatchObject({ code: 'IMAGE_TOO_LARGE' });
      const audio = new FakeRunner(JSON.stringify({ streams: [] }));
      await expect(decodeVideo(audio, 'in.m4a', limits, MP4)).rejects.toMatchObject({ code: 'UNSUPPORTED_MEDIA' });
    });

    it('should refuse a probe whose container is not the pinned one, before decoding', async () => {
      const hls = new FakeRunner(
        probeJson({ width: 64, height: 64, avg_frame_rate: '25/1' }, { format_name: 'hls' }),
        Buffer.alloc(64 * 64 * 3),
      );
      await expect(decodeVideo(hls, 'in.mp4', limits, MP4)).rejects.toMatchObject({ code: 'UNSUPPORTED_MEDIA' });
      expect(hls.runs).toHaveLength(0);
    });
  });

  describe(GrowableBuffer.name, () => {
    it('should keep appended bytes in order across growth, as a view without a copy', () => {
      const sut = new GrowableBuffer(4, 64);
      for (let i = 0; i < 10; i++) expect(sut.append(Buffer.from([i, i]))).toBe(true);
      expect([...sut.bytes()]).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9]);
      expect(sut.capacity).toBe(32);
    });

    it('should refuse (and flag) bytes past the cap instead of throwing in a stream listener', () => {
      const sut = new GrowableBuffer(8, 10);
      expect(sut.append(Buffer.alloc(8))).toBe(true);
      expect(sut.append(Buffer.alloc(3))).toBe(false);
      expect(sut.overflowed).toBe(true);
      expect(sut.bytes().length).toBe(8);
    });
  });

  describe('initialFrames', () => {
    it('should size from the probed duration with 2 frames of slack, capped, or take the cap without one', () => {
      const info = { width: 4, height: 2, fps: 25 };
      expect(initialFrames({ ...info, duration: 2 }, 1500)).toBe(52);
      expect(initialFrames({ ...info, duration: 100 }, 1500)).toBe(1501);
      expect(initialFrames(info, 1500)).toBe(1501);
    });
  });
});
