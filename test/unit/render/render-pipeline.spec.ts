import { pinnedFormatOf } from '../../../gateway/src/media/demuxer-allowlist';
import { existsSync, promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GatewayError } from '../../../gateway/src/common/errors';
import { FakeBackend } from '../../../gateway/src/inference/fake.backend';
import { FACE_ELEMENTS, MEL_WINDOW_ELEMENTS } from '../../../gateway/src/inference/model-contract';
import type { FfmpegProcess, FfmpegRunner } from '../../../gateway/src/media/ffmpeg-runner';
import { AudioPort, AvatarPort, AvatarView, batchPlan, RenderPipeline } from '../../../gateway/src/render/render-pipeline';

/** A strict fake encoder: records frames, fails if used after end/kill. */
class FakeEncoder implements FfmpegProcess {
  readonly frames: Uint8Array[] = [];
  state: 'open' | 'ended' | 'killed' = 'open';
  readonly stdin = undefined as never;
  readonly stdout = undefined as never;
  readonly pid = 4242;
  readonly exited = Promise.resolve(0);
  /** like ffmpeg, creates the output only after some input: at the k-th frame (default: at end()) */
  constructor(
    private readonly outPath: string,
    private readonly createAtFrame?: number,
  ) {}
  async write(chunk: Uint8Array): Promise<void> {
    if (this.state !== 'open') throw new Error(`write after ${this.state}`);
    this.frames.push(Uint8Array.from(chunk));
    if (this.frames.length === this.createAtFrame) await fs.writeFile(this.outPath, 'ftyp');
  }
  async writeExtra(): Promise<void> {
    throw new Error('the render pipeline has no extra input pipes');
  }
  async end() {
    if (this.state !== 'open') throw new Error(`end after ${this.state}`);
    this.state = 'ended';
    await fs.writeFile(this.outPath, 'mp4');
    return { stdout: Buffer.alloc(0), stderr: '' };
  }
  async kill() {
    this.state = 'killed';
  }
}

const W = 8;
const H = 6;
const box = { x1: 2, y1: 1, x2: 6, y2: 5 };

/** A 'video' avatar of n frames whose pixels hold 10 + the frame index, so the output order shows. */
function fakeAvatar(n = 3, fps?: number): AvatarView {
  const frames = Array.from({ length: n }, (_, i) => new Uint8Array(W * H * 3).fill(10 + i));
  const crop = new Uint8Array(FACE_ELEMENTS).fill(200);
  const mask = new Float32Array((box.x2 - box.x1) * (box.y2 - box.y1)).fill(1);
  const frame = (i: number) => {
    if (!(i >= 0 && i < n)) throw new RangeError(`frame ${i} out of range`);
    return frames[i];
  };
  return {
    width: W,
    height: H,
    frameCount: n,
    fps,
    cached: false,
    timings: { decode: 1, detect: 2, prepare: 7 },
    frame,
    box: () => box,
    crop: () => crop,
    mask: () => mask,
  };
}

/** T mel frames of constant value v per frame index, so windows are easy to check. */
function fakeAudio(melFrames: number, seconds: number): AudioPort {
  return {
    probe: async () => ({ pinned: pinnedFormatOf({ kind: 'audio', format: 'wav' })! }),
    load: async () => ({ pcm: new Float32Array(16), durationSec: seconds }),
    mel: () => ({ data: new Float32Array(80 * melFrames), frames: melFrames }),
    frameCount: (T, fps) => Math.ceil((T * fps) / 80),
    fillWindows: (_mel, from, to, _fps, out) => {
      for (let i = from; i < to; i++) out.fill(i, (i - from) * MEL_WINDOW_ELEMENTS, (i - from + 1) * MEL_WINDOW_ELEMENTS);
    },
  };
}

const avatars: AvatarPort = { prepare: async () => fakeAvatar(), frameIndex: (i, n) => i % n };

describe(RenderPipeline.name, () => {
  let work: string;
  let encoders: FakeEncoder[];
  let runner: FfmpegRunner;
  let createAtFrame: number | undefined;

  beforeEach(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'pipeline-unit-'));
    encoders = [];
    createAtFrame = undefined;
    runner = {
      open: (args: string[]) => {
        const enc = new FakeEncoder(args[args.length - 1], createAtFrame);
        encoders.push(enc);
        return enc;
      },
    } as unknown as FfmpegRunner;
  });
  afterEach(() => fs.rm(work, { recursive: true, force: true }));

  const make = async (backend = new FakeBackend({ maxBatch: 4 }), avatarPort: AvatarPort = avatars) => {
    await backend.start();
    return { backend, sut: new RenderPipeline(runner, fakeAudio(80, 1), avatarPort, backend, { defaultBatchSize: 4, encoder: 'libx264' }) };
  };
  it('should report the precision the backend says it serves in the model, over the stamp', async () => {
    const backend = new FakeBackend({ maxBatch: 4 });
    const readiness = backend.readiness.bind(backend);
    backend.readiness = () => ({ ...readiness(), precision: 'int8' });
    await backend.start();
    const model = { name: 'wav2lip-demo-seed0', origin: 'demo' as const, licence: 'demo', precision: 'fp32' };
    const sut = new RenderPipeline(runner, fakeAudio(80, 1), avatars, backend, { defaultBatchSize: 4, encoder: 'libx264', model });
    const r = await sut.render({ facePath: 'f.png', audioPath: 'a.wav', outPath: path.join(work, 'p.mp4'), fps: 10 });
    expect(r.model).toEqual({ ...model, precision: 'int8' });
    const plain = await (await make()).sut.render({ facePath: 'f.png', audioPath: 'a.wav', outPath: path.join(work, 'q.mp4'), fps: 10 });
    expect(plain.model).toBeUndefined();
  });
  const videoAvatars = (n: number, fps: number): AvatarPort => ({ prepare: async () => fakeAvatar(n, fps), frameIndex: (i, k) => i % k });

  it('should send every frame once, in order, in batches of at most B, and rename the output on success', async () => {
    const { backend, sut } = await make();
    const out = path.join(work, 'out.mp4');
    const r = await sut.render({ facePath: 'f.png', audioPath: 'a.wav', outPath: out, fps: 10 });
    expect(r.frames).toBe(10); // ⌈80·10/80⌉
    expect(r.batchSizes).toEqual([4, 4, 2]);
    expect(backend.calls).toEqual([4, 4, 2]);
    expect(encoders[0].frames).toHaveLength(10);
    expect(encoders[0].frames.map((f) => f[0])).toEqual([10, 11, 12, 10, 11, 12, 10, 11, 12, 10]); // looped avatar, in order
    expect(encoders[0].state).toBe('ended');
    expect(await fs.readdir(work)).toEqual(['out.mp4']);
    expect(r.timings.detect).toBe(2);
  });

  it("should count the avatar's prepare call once, without its detection, under 'prepare'", async () => {
    // the batch-side 'prepare' (mel windows, crops) adds a little on top: bound it from both sides
    const { sut } = await make(undefined, {
      prepare: async () => ({ ...fakeAvatar(), timings: { decode: 1000, detect: 2000, prepare: 5000 } }),
      frameIndex: (i, n) => i % n,
    });
    const r = await sut.render({ facePath: 'f.png', audioPath: 'a.wav', outPath: path.join(work, 't.mp4'), fps: 10 });
    expect(r.timings.detect).toBe(2000);
    expect(r.timings.prepare).toBeGreaterThanOrEqual(3000);
    expect(r.timings.prepare).toBeLessThan(4000);
  });

  it("should render at a video avatar's own frame rate when the request sets none", async () => {
    const { sut } = await make(undefined, videoAvatars(60, 50));
    const r = await sut.render({ facePath: 'f.mp4', audioPath: 'a.wav', outPath: path.join(work, 'v.mp4') });
    expect(r.fps).toBe(50);
    expect(r.frames).toBe(50); // 1 s of audio
    expect(encoders[0].frames.map((f) => f[0] - 10)).toEqual(Array.from({ length: 50 }, (_, i) => i)); // one source frame per output frame
  });

  it('should keep 25 fps for an image avatar (no frame rate of its own)', async () => {
    const { sut } = await make();
    const r = await sut.render({ facePath: 'f.png', audioPath: 'a.wav', outPath: path.join(work, 'i.mp4') });
    expect(r.fps).toBe(25);
  });

  it.each([
    [50, 25, [0, 2, 4, 6, 8, 10]],
    [25, 50, [0, 0, 1, 1, 2, 2]],
    [30, 25, [0, 1, 2, 3, 4, 6]], // ⌊1.2·i⌋
  ])('should play a %p fps clip at its own speed in a %p fps output', async (avatarFps, fps, firstSources) => {
    const { sut } = await make(undefined, videoAvatars(60, avatarFps));
    const r = await sut.render({ facePath: 'f.mp4', audioPath: 'a.wav', outPath: path.join(work, 'r.mp4'), fps });
    expect(r.fps).toBe(fps);
    expect(encoders[0].frames.slice(0, 6).map((f) => f[0] - 10)).toEqual(firstSources);
  });

  it('should map the output time to the clip before looping it', async () => {
    const { sut } = await make(undefined, videoAvatars(4, 20));
    await sut.render({ facePath: 'f.mp4', audioPath: 'a.wav', outPath: path.join(work, 'l.mp4'), fps: 10 });
    // source frames 0,2,4,6,8,… of a 4-frame clip, looped
    expect(encoders[0].frames.map((f) => f[0] - 10)).toEqual([0, 2, 0, 2, 0, 2, 0, 2, 0, 2]);
  });

  it('should leave pixels outside the box untouched and paste the model output inside it', async () => {
    const { sut } = await make();
    // the test audio is all zeros: 'model' pastes even in silence (silence=keep is tested below)
    await sut.render({ facePath: 'f.png', audioPath: 'a.wav', outPath: path.join(work, 'o.mp4'), fps: 10, silence: 'model' });
    const f = encoders[0].frames[0];
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const inside = x >= box.x1 && x < box.x2 && y >= box.y1 && y < box.y2;
        if (!inside) expect(f[(y * W + x) * 3]).toBe(10); // frame 0 of the avatar
      }
    }
    // the fake model keeps the top half of the crop (200) and the mask is 1: the box's top row is 200
    expect(f[(box.y1 * W + box.x1) * 3]).toBe(200);
  });

  it('should show the source mouth on every frame of silent audio by default (silence=keep)', async () => {
    const { sut } = await make();
    const r = await sut.render({ facePath: 'f.png', audioPath: 'a.wav', outPath: path.join(work, 's.mp4'), fps: 10 });
    expect(r.silentFrames).toBe(r.frames);
    // the source pixel of each (3-frame) avatar frame, not the model's 200
    expect(encoders[0].frames.map((f) => f[(box.y1 * W + box.x1) * 3])).toEqual(encoders[0].frames.map((_, k) => 10 + (k % 3)));
  });

  it('should start a streamed render with two 1-frame batches that then double up to B, and report firstFrame', async () => {
    const { backend, sut } = await make(new FakeBackend({ maxBatch: 4 }));
    const firsts: [number, boolean][] = [];
    const observed = new RenderPipeline(
      runner,
      fakeAudio(80, 1),
      avatars,
      backend,
      { defaultBatchSize: 4, encoder: 'libx264' },
      { firstFrame: (ms, s) => firsts.push([ms, s]) },
    );
    const r = await observed.render({
      facePath: 'f.png',
      audioPath: 'a.wav',
      outPath: path.join(work, 'r.mp4'),
      fps: 25,
      fragmented: true,
    });
    expect(r.batchSizes).toEqual([1, 1, 2, 4, 4, 4, 4, 4, 1]);
    expect(encoders[0].frames.map((f) => f[0]).slice(0, 7)).toEqual([10, 11, 12, 10, 11, 12, 10]); // still in order across uneven batches
    expect(r.timings.firstFrame).toBeGreaterThanOrEqual(0);
    expect(r.timings.firstFrame!).toBeLessThanOrEqual(r.timings.total!);
    expect(firsts).toEqual([[expect.any(Number), true]]);
    // a plain render keeps full batches
    const plain = await sut.render({ facePath: 'f.png', audioPath: 'a.wav', outPath: path.join(work, 'p.mp4'), fps: 10 });
    expect(plain.batchSizes).toEqual([4, 4, 2]);
  });

  it('should signal the output start once, only when the encoder has created the file', async () => {
    createAtFrame = 6; // during the second batch
    const { sut } = await make(new FakeBackend({ maxBatch: 4, delayMs: 30 }));
    const seen: boolean[] = [];
    const r = await sut.render(
      { facePath: 'f.png', audioPath: 'a.wav', outPath: path.join(work, 's.mp4'), fps: 25, fragmented: true },
      {
        onOutputStarted: (p) => seen.push(existsSync(p)),
      },
    );
    expect(r.frames).toBe(25); // 7 batches: time enough after the 6th frame for the watcher to see the file
    expect(seen).toEqual([true]);
  });

  it('should not signal the output start when the file never appears before the render ends', async () => {
    const { sut } = await make(new FakeBackend({ maxBatch: 4, delayMs: 5 }));
    const seen: string[] = [];
    await sut.render(
      { facePath: 'f.png', audioPath: 'a.wav', outPath: path.join(work, 'n.mp4'), fps: 10, fragmented: true },
      { onOutputStarted: (p) => seen.push(p) },
    );
    await new Promise((r) => setTimeout(r, 60)); // a watcher left running would fire now that the file exists
    expect(seen).toEqual([]);
  });

  it('should kill the encoder, remove the partial file and report the backend error when a batch fails', async () => {
    const { sut } = await make(new FakeBackend({ maxBatch: 4, failOnCall: 2 }));
    const out = path.join(work, 'fail.mp4');
    const err = await sut.render({ facePath: 'f.png', audioPath: 'a.wav', outPath: out, fps: 10 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('INFERENCE_FAILED');
    expect(encoders[0].state).toBe('killed');
    expect(await fs.readdir(work)).toEqual([]);
  });

  it('should stop with CANCELLED when the caller aborts mid-render', async () => {
    const { sut } = await make(new FakeBackend({ maxBatch: 4, delayMs: 5 }));
    const ac = new AbortController();
    const p = sut.render(
      { facePath: 'f.png', audioPath: 'a.wav', outPath: path.join(work, 'c.mp4'), fps: 10 },
      {
        signal: ac.signal,
        onProgress: () => ac.abort(),
      },
    );
    await expect(p).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(encoders[0].state).toBe('killed');
    expect(encoders[0].frames.length).toBeLessThan(10);
    expect(await fs.readdir(work)).toEqual([]);
  });

  it('should refuse a backend that is not ready before opening an encoder', async () => {
    const { sut } = await make(new FakeBackend({ notReadyReason: 'model missing' }));
    await expect(sut.render({ facePath: 'f.png', audioPath: 'a.wav', outPath: path.join(work, 'x.mp4') })).rejects.toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
      message: expect.stringContaining('model missing'),
    });
    expect(encoders).toHaveLength(0);
  });

  it.each([
    [{ fps: 0 }, /fps/],
    [{ batchSize: 129 }, /batch size/],
    [{ outputHeight: 101 }, /output height/],
    [{ quality: 52 }, /quality/],
  ])('should refuse invalid options %p', async (opt, msg) => {
    const { sut } = await make();
    await expect(sut.render({ facePath: 'f.png', audioPath: 'a.wav', outPath: path.join(work, 'x.mp4'), ...opt })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringMatching(msg),
    });
  });

  it('should refuse a forced NVENC encoder when the server probed none', async () => {
    const { sut } = await make();
    await expect(
      sut.render({ facePath: 'f.png', audioPath: 'a.wav', outPath: path.join(work, 'x.mp4'), encoder: 'h264_nvenc' }),
    ).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });
});

describe(batchPlan.name, () => {
  it('should start with two 1-frame batches, then double up to the batch size, when ramping', () => {
    expect(batchPlan(100, 32, true)).toEqual([1, 1, 2, 4, 8, 16, 32, 32, 4]);
    expect(batchPlan(3, 32, true)).toEqual([1, 1, 1]);
    expect(batchPlan(6, 32, true)).toEqual([1, 1, 2, 2]);
    expect(batchPlan(5, 1, true)).toEqual([1, 1, 1, 1, 1]);
  });

  it('should use full batches without a ramp and cover the total exactly', () => {
    expect(batchPlan(10, 4, false)).toEqual([4, 4, 2]);
    expect(batchPlan(0, 4, true)).toEqual([]);
    for (const total of [1, 7, 64, 65, 1501]) expect(batchPlan(total, 32, true).reduce((a, b) => a + b, 0)).toBe(total);
  });
});
