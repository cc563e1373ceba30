import { GatewayError } from '../../../gateway/src/common/errors';
import { decodeArgs, decodeVideo, parseVideoProbe } from '../../../gateway/src/face/video-frames';
import { pinnedFormatOf } from '../../../gateway/src/media/demuxer-allowlist';
import { FfmpegRunner, RunOptions, RunResult } from '../../../gateway/src/media/ffmpeg-runner';

const probeJson = (stream: Record<string, unknown>, format: Record<string, unknown> = {}) =>
  JSON.stringify({ streams: [{ codec_type: 'video', ...stream }], format: { format_name: 'mov,mp4,m4a,3gp,3g2,mj2', ...format } });
const MP4 = pinnedFormatOf({ kind: 'video', format: 'mp4' })!;

/** Strict fake: one scripted probe answer and one scripted ffmpeg answer. */
class FakeRunner extends FfmpegRunner {
  readonly runs: { args: string[]; opts: RunOptions }[] = [];
  constructor(private readonly probeOut: string, private readonly runOut?: Buffer) {
    super();
  }
  async probe(): Promise<RunResult> {
    return { stdout: Buffer.from(this.probeOut), stderr: '' };
  }
  async run(args: string[], opts: RunOptions = {}): Promise<RunResult> {
    this.runs.push({ args, opts });
    if (!this.runOut) throw new Error('FakeRunner: unexpected run()');
    return { stdout: this.runOut, stderr: '' };
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
        probeJson({ width: 640, height: 360, avg_frame_rate: '0/0', r_frame_rate: '25/1', side_data_list: [{ rotation: -90 }] }, { duration: '3.5' }),
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
      expect(v.frames.map((f) => [f.length, f[0], f[f.length - 1]])).toEqual([[24, 1, 1], [24, 2, 2], [24, 3, 3]]);
      expect(runner.runs[0].opts.maxStdoutBytes).toBe(101 * frameBytes);
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
      const hls = new FakeRunner(probeJson({ width: 64, height: 64, avg_frame_rate: '25/1' }, { format_name: 'hls' }), Buffer.alloc(64 * 64 * 3));
      await expect(decodeVideo(hls, 'in.mp4', limits, MP4)).rejects.toMatchObject({ code: 'UNSUPPORTED_MEDIA' });
      expect(hls.runs).toHaveLength(0);
    });
  });
});
