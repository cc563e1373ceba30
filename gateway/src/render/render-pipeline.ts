import { promises as fs } from 'fs';
import * as path from 'path';
import { GatewayError, throwIfAborted, toGatewayError } from '../common/errors';
import { assertWritableDirFor } from '../common/fs-util';
import { FACE_ELEMENTS, MEL_WINDOW_ELEMENTS } from '../inference/model-contract';
import { REMOTE_INFER_DEPTH, type InferenceBackend } from '../inference/inference-backend';
import { FfmpegProcess, FfmpegRunner } from '../media/ffmpeg-runner';
import { buildEncodeArgs, VideoEncoder } from './encoder-args';
import { compositeInto } from './compositor';
import { outputMetadata } from './output-metadata';
import { silenceWeights } from './silence';
import { StageClock } from './stage-clock';
import { batchPlan, DEFAULT_FPS, evenWidthFor, MAX_FPS, sourceFrameAt, validateRequest, whenFileExists } from './render-plan';
import type { AudioPort, AvatarPort, AvatarView, PipelineOptions } from './render-ports';
import type { PipelineObserver, RenderHooks, RenderRequest, RenderResult, RenderTimings, Renderer } from './render.types';

export * from './render-ports';
export { batchPlan, evenWidthFor, sourceFrameAt } from './render-plan';

export class RenderPipeline implements Renderer {
  constructor(
    private readonly runner: FfmpegRunner,
    private readonly audio: AudioPort,
    private readonly avatars: AvatarPort,
    private readonly backend: InferenceBackend,
    private readonly opts: PipelineOptions,
    private readonly observer: PipelineObserver = {},
  ) {}

  async render(req: RenderRequest, hooks: RenderHooks = {}): Promise<RenderResult> {
    validateRequest(req);
    const clock = new StageClock(this.observer);
    const batchSize = req.batchSize ?? this.opts.defaultBatchSize;
    const encoder = this.pickEncoder(req.encoder);
    const abort = new AbortController();
    const onOuterAbort = () => abort.abort();
    hooks.signal?.addEventListener('abort', onOuterAbort, { once: true });
    if (hooks.signal?.aborted) abort.abort();
    const signal = abort.signal;
    let over = false; // the render returned or failed: stops the output watcher

    const outDir = path.dirname(path.resolve(req.outPath));
    await assertWritableDirFor(req.outPath);
    // Non-fragmented output goes to a temp name and is renamed on success; fragmented output is
    // written in place so it can be streamed while it grows, and removed on failure.
    const writePath = req.fragmented
      ? req.outPath
      : path.join(outDir, `.${path.basename(req.outPath)}.${process.pid}.${Date.now()}.partial.mp4`);
    let enc: FfmpegProcess | undefined;
    try {
      const ready = this.backend.readiness();
      if (!ready.ready)
        throw new GatewayError(
          'BACKEND_UNAVAILABLE',
          `inference backend '${this.backend.kind}' is not ready: ${ready.reason ?? 'unknown reason'}`,
        );
      // the backend's own reading of the served file's precision wins over the stamp's claim
      const model = this.opts.model && ready.precision ? { ...this.opts.model, precision: ready.precision } : this.opts.model;

      // Critical path of a stream's first bytes: the encoder (an ffmpeg start, ~100 ms) starts as
      // soon as the avatar (cached: ms) and the audio's demuxer are known, while the audio is probed,
      // decoded and its mel computed, so it is ready when the first batch comes back from the model.
      const probed = clock.time('decode', () => this.audio.probe(req.audioPath, signal));
      const decoded = probed.then((probe) =>
        clock.time('decode', () => this.audio.load(req.audioPath, probe, signal)).finally(() => clock.mark('audioReady')),
      );
      decoded.catch(() => undefined); // awaited below, after the encoder started (which a bad file then stops)
      const sniffed = this.audio.pinned ? this.audio.pinned(req.audioPath).catch(() => undefined) : Promise.resolve(undefined);
      const [pinned, avatar] = await Promise.all([
        sniffed.then(async (p) => p ?? (await probed).pinned),
        this.avatars
          .prepare(req.facePath, {
            box: req.box,
            pads: req.pads,
            smooth: req.smooth,
            faceIndex: req.faceIndex,
            facePoint: req.facePoint,
            signal,
          })
          .finally(() => clock.mark('avatarReady')),
      ]);
      // The avatar's `prepare` is its whole call (decode and detect included): count detect once, under 'detect'.
      clock.add('detect', avatar.timings.detect);
      clock.add('prepare', Math.max(0, avatar.timings.prepare - avatar.timings.detect));
      throwIfAborted(signal);
      // Like upstream Wav2Lip, a video avatar keeps its own frame rate unless the request sets one.
      const fps = req.fps ?? (avatar.fps ? Math.min(avatar.fps, MAX_FPS) : DEFAULT_FPS);
      enc = this.runner.open(
        buildEncodeArgs({
          width: avatar.width,
          height: avatar.height,
          fps,
          audioPath: req.audioPath,
          audioFormat: pinned,
          outPath: writePath,
          encoder,
          quality: req.quality,
          outputHeight: req.outputHeight,
          fragmented: req.fragmented,
          metadata: model ? outputMetadata(model) : undefined,
        }),
        { signal },
      );
      clock.mark('encoderStarted');
      const { pcm, durationSec: audioSeconds } = await decoded;
      throwIfAborted(signal);
      const mel = clock.timeSync('mel', () => this.audio.mel(pcm));
      const total = this.audio.frameCount(mel.frames, fps);
      if (total < 1) throw new GatewayError('AUDIO_EMPTY', 'the audio is too short to make a single frame');
      // Pauses show the source mouth, faded in and out (silence.ts); 'model' pastes every frame.
      const weights = req.silence === 'model' ? undefined : clock.timeSync('mel', () => silenceWeights(pcm, total, fps, this.opts.silence));

      let firstFrame: number | undefined;
      const onFirstFrame = () => {
        firstFrame = clock.elapsed();
        this.observer.firstFrame?.(firstFrame, req.fragmented === true);
      };
      const batchSizes = await this.runBatches({
        avatar,
        mel,
        total,
        fps,
        batchSize,
        loop: req.loop ?? 'loop',
        enc,
        clock,
        signal,
        hooks,
        writePath,
        isOver: () => over,
        ramp: req.fragmented === true,
        onFirstFrame,
        weights,
      });
      await clock.time('encode', () => enc!.end());
      enc = undefined;
      if (!req.fragmented) await fs.rename(writePath, req.outPath);
      const timings: RenderTimings = clock.finish();
      if (firstFrame !== undefined) timings.firstFrame = Math.round(firstFrame * 10) / 10;
      timings.marks = clock.marks;
      return {
        outPath: req.outPath,
        frames: total,
        fps,
        width: req.outputHeight ? evenWidthFor(avatar.width, avatar.height, req.outputHeight) : avatar.width,
        height: req.outputHeight ?? avatar.height,
        audioSeconds,
        encoder,
        backend: this.backend.kind,
        avatarCached: avatar.cached,
        silentFrames: weights ? weights.reduce((n, w) => (w === 0 ? n + 1 : n), 0) : 0,
        batchSizes,
        timings,
        ...(model ? { model } : {}),
      };
    } catch (err) {
      abort.abort();
      if (enc) await enc.kill();
      await fs.rm(writePath, { force: true });
      const gw = toGatewayError(err);
      // A job cancelled from outside reports CANCELLED even if a stage failed while dying.
      throw hooks.signal?.aborted ? new GatewayError('CANCELLED', 'the render was cancelled') : gw;
    } finally {
      over = true;
      hooks.signal?.removeEventListener('abort', onOuterAbort);
    }
  }

  private pickEncoder(requested: RenderRequest['encoder']): VideoEncoder {
    if (!requested || requested === 'auto') return this.opts.encoder;
    if (requested === 'h264_nvenc' && this.opts.encoder !== 'h264_nvenc') {
      throw new GatewayError('VALIDATION_FAILED', 'encoder h264_nvenc is not available on this server (no NVIDIA encoder found at start)');
    }
    return requested;
  }

  /**
   * The overlapped core: up to `inferDepth` batches are in the backend while the previous batch is
   * composited and written to ffmpeg (which encodes in its own process). Memory is bounded by
   * depth × batch, whatever the audio length.
   */
  private async runBatches(a: {
    avatar: AvatarView;
    mel: { data: Float32Array; frames: number };
    total: number;
    fps: number;
    batchSize: number;
    loop: 'loop' | 'pingpong';
    enc: FfmpegProcess;
    clock: StageClock;
    signal: AbortSignal;
    hooks: RenderHooks;
    writePath: string;
    isOver: () => boolean;
    ramp: boolean;
    /** per-frame paste weight (silence.ts); undefined = paste every frame fully */
    weights?: Float32Array;
    onFirstFrame: () => void;
  }): Promise<number[]> {
    const { avatar, mel, total, fps, batchSize, enc, clock, signal } = a;
    // A streamed render starts with small batches so its first frames leave early (2, 4, 8 … batchSize).
    const plan = batchPlan(total, batchSize, a.ramp);
    const starts = plan.map((_, k) => plan.slice(0, k).reduce((x, y) => x + y, 0));
    const nBatches = plan.length;
    const depth = Math.max(1, this.opts.inferDepth ?? REMOTE_INFER_DEPTH);
    const inflight: { start: number; n: number; result: Promise<Uint8Array> }[] = [];
    const sizes: number[] = [];
    let launched = 0;
    let inferBusyUntil = 0;
    const frameIdx = (i: number) => this.avatars.frameIndex(sourceFrameAt(i, fps, avatar.fps), avatar.frameCount, a.loop);

    const launch = () => {
      const start = starts[launched];
      const n = plan[launched];
      const melBuf = new Float32Array(n * MEL_WINDOW_ELEMENTS);
      const faceBuf = new Uint8Array(n * FACE_ELEMENTS);
      clock.timeSync('prepare', () => {
        this.audio.fillWindows(mel, start, start + n, fps, melBuf);
        for (let j = 0; j < n; j++) faceBuf.set(avatar.crop(frameIdx(start + j)), j * FACE_ELEMENTS);
      });
      this.observer.inFlightChanged?.(1);
      const t0 = performance.now();
      const result = this.backend
        .infer({ n, mel: melBuf, face: faceBuf }, { signal, deadlineMs: this.opts.inferDeadlineMs })
        .finally(() => {
          this.observer.inFlightChanged?.(-1);
        });
      result.catch(() => undefined); // awaited below in order; this only silences early rejections
      inflight.push({ start: t0, n, result });
      sizes.push(n);
      launched++;
    };

    let done = 0;
    let started = false;
    while (launched < nBatches && inflight.length < depth) launch();
    for (let b = 0; b < nBatches; b++) {
      const head = inflight.shift()!;
      const mouth = await head.result;
      clock.mark('firstBatch');
      // Batches run one after another in the backend: count only the time not already counted.
      const now = performance.now();
      const execMs = now - Math.max(head.start, inferBusyUntil);
      inferBusyUntil = now;
      clock.add('infer', execMs);
      this.observer.batchDone?.(head.n, execMs, this.backend.kind);
      throwIfAborted(signal);
      if (launched < nBatches) launch();

      for (let j = 0; j < head.n; j++) {
        const i = starts[b] + j;
        const fi = frameIdx(i);
        const frame = clock.timeSync('composite', () => {
          const out = Uint8Array.from(avatar.frame(fi));
          if (avatar.hasFace && !avatar.hasFace(fi)) return out; // the chosen face is not in this frame: no paste
          compositeInto(
            out,
            avatar.width,
            avatar.box(fi),
            mouth.subarray(j * FACE_ELEMENTS, (j + 1) * FACE_ELEMENTS),
            avatar.mask(fi),
            a.weights ? a.weights[i] : 1,
          );
          return out;
        });
        await clock.time('encode', () => enc.write(frame));
        if (i === 0) a.onFirstFrame();
      }
      done += head.n;
      if (!started && a.hooks.onOutputStarted) {
        started = true;
        const onStarted = a.hooks.onOutputStarted;
        whenFileExists(a.writePath, a.isOver, (file) => {
          clock.mark('outputStarted');
          onStarted(file);
        });
      }
      a.hooks.onProgress?.({ framesDone: done, framesTotal: total, progress: done / total });
    }
    return sizes;
  }
}
