import { Logger } from '@nestjs/common';
import type { Worker } from 'worker_threads';
import { GatewayError, type ErrorCode } from '../common/errors';
import { siblingModule, startModuleWorker } from '../common/worker-loader';
import type { FaceWorkerSettings, FromFaceWorker, ToFaceWorker } from './face-detector.protocol';
import type { DetectedFace, Point } from './face.types';

/**
 * Face detection behind a small injectable class, so services take "a detector" and tests pass a
 * strict fake. `detect` gets packed RGB24 and returns every face found (unpadded, in pixels).
 */
export abstract class FaceDetector {
  /** names the model + settings; part of the avatar cache key */
  abstract readonly id: string;
  abstract detect(rgb: Uint8Array, width: number, height: number): Promise<DetectedFace[]>;
  /**
   * 68 landmarks (iBUG numbering) of the face filling this image, in its pixels. Optional: a
   * detector without it gets the raw detector boxes (no refinement, see face-refine.ts).
   */
  landmarks?(rgb: Uint8Array, width: number, height: number): Promise<Point[]>;
}

export interface FaceApiDetectorOptions {
  /** SSD MobileNet v1 score threshold (Wav2Lip's S3FD keeps scores > 0.5) */
  minConfidence?: number;
  maxResults?: number;
  /** how long close() waits for the worker to finish its current frame before terminating it */
  closeTimeoutMs?: number;
}

/** Starts the thread that runs detections; tests swap it for a scripted worker. */
export type FaceWorkerStarter = (settings: FaceWorkerSettings) => Worker;

export const startFaceWorker: FaceWorkerStarter = (settings) =>
  startModuleWorker(siblingModule(__filename, 'face-detector.worker'), { workerData: settings });

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/**
 * @vladmandic/face-api SSD MobileNet v1 on tfjs-wasm, in a worker thread so a detection never blocks
 * the event loop. The worker (and the model) starts on the first detect or warmUp; requests run in
 * FIFO order. If the worker dies, pending requests fail with INTERNAL and the next call starts a new
 * one; after close() the next call starts a new one too.
 */
export class FaceApiDetector extends FaceDetector {
  readonly id: string;
  private readonly logger = new Logger(FaceApiDetector.name);
  private readonly settings: FaceWorkerSettings;
  private readonly closeTimeoutMs: number;
  private worker?: Worker;
  /** the worker's reason for not starting, reported when it exits */
  private startError?: string;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(
    opts: FaceApiDetectorOptions = {},
    private readonly startWorker: FaceWorkerStarter = startFaceWorker,
  ) {
    super();
    this.settings = { minConfidence: opts.minConfidence ?? 0.5, maxResults: opts.maxResults ?? 10 };
    this.closeTimeoutMs = opts.closeTimeoutMs ?? 10_000;
    this.id = `face-api-ssd-mobilenetv1@${this.settings.minConfidence}`;
  }

  /** Starts the worker, loads the model and runs one tiny detection, so the first request is not slow. */
  async warmUp(): Promise<void> {
    await this.detect(new Uint8Array(64 * 64 * 3), 64, 64);
  }

  detect(rgb: Uint8Array, width: number, height: number): Promise<DetectedFace[]> {
    return this.request('detect', rgb, width, height) as Promise<DetectedFace[]>;
  }

  /** face-api's faceLandmark68Net (weights shipped in the package) on the whole image. */
  landmarks(rgb: Uint8Array, width: number, height: number): Promise<Point[]> {
    return this.request('landmarks', rgb, width, height) as Promise<Point[]>;
  }

  private request(type: 'detect' | 'landmarks', rgb: Uint8Array, width: number, height: number): Promise<unknown> {
    if (rgb.length !== width * height * 3) {
      return Promise.reject(new RangeError(`expected ${width}x${height}x3 bytes, got ${rgb.length}`));
    }
    let worker: Worker;
    try {
      worker = this.worker ?? this.spawn();
    } catch (e) {
      return Promise.reject(
        new GatewayError('INTERNAL', `face detector worker did not start: ${(e as Error).message}`, undefined, { cause: e }),
      );
    }
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) worker.ref(); // an awaited detection keeps the process alive
      // copy into a fresh buffer and transfer that: the caller keeps its frame (video frames share one buffer)
      const frame = new Uint8Array(rgb);
      this.post(worker, { type, id, rgb: frame.buffer, width, height }, [frame.buffer]);
    });
  }

  /**
   * Fails pending requests, asks the worker to finish its current frame and exit, and terminates it
   * only if it has not exited within closeTimeoutMs (terminating mid-computation can crash the process).
   */
  async close(): Promise<void> {
    const w = this.worker;
    if (!w) return;
    this.worker = undefined;
    this.failAll('BACKEND_UNAVAILABLE', 'the face detector was closed');
    let timer: NodeJS.Timeout | undefined;
    const exited = new Promise<boolean>((resolve) => {
      w.once('exit', () => resolve(true));
      timer = setTimeout(() => resolve(false), this.closeTimeoutMs);
    });
    this.post(w, { type: 'close' });
    const clean = await exited;
    clearTimeout(timer);
    if (!clean) {
      this.logger.warn(`face detector worker did not exit within ${this.closeTimeoutMs} ms; terminating it`);
      await w.terminate();
    }
  }

  private spawn(): Worker {
    const w = this.startWorker(this.settings);
    this.worker = w;
    this.startError = undefined;
    w.unref(); // an idle detector must not keep a CLI process alive; ref'd while requests are pending
    w.on('message', (msg: FromFaceWorker) => this.onMessage(w, msg));
    w.on('error', (err) => this.onWorkerGone(w, `face detector worker failed: ${err.message}`));
    w.on('exit', (code) => this.onWorkerGone(w, `face detector worker exited (code ${code})`));
    return w;
  }

  private onMessage(w: Worker, msg: FromFaceWorker): void {
    if (w !== this.worker) return; // a closed worker's late reply
    if (msg.type === 'ready') {
      this.logger.log(`face-api loaded in the worker in ${Math.round(msg.loadMs)} ms`);
      return;
    }
    if (msg.type === 'load-failed') {
      this.startError = msg.message; // the worker exits next; onWorkerGone fails the requests
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (this.pending.size === 0) w.unref();
    if (msg.type === 'done') p.resolve(msg.faces);
    else if (msg.type === 'landmarks-done') p.resolve(pairsToPoints(msg.points));
    else p.reject(new GatewayError('INTERNAL', `face analysis failed: ${msg.message}`));
  }

  private onWorkerGone(w: Worker, reason: string): void {
    if (w !== this.worker) return; // closed on purpose, or already handled ('error' is followed by 'exit')
    this.worker = undefined;
    const why = this.startError ? `face detector failed to start: ${this.startError}` : reason;
    if (this.pending.size) this.logger.error(why);
    this.failAll('INTERNAL', why);
  }

  private failAll(code: ErrorCode, message: string): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(new GatewayError(code, message));
  }

  private post(w: Worker, msg: ToFaceWorker, transfer: ArrayBuffer[] = []): void {
    w.postMessage(msg, transfer);
  }
}

function pairsToPoints(xy: number[]): Point[] {
  const out: Point[] = [];
  for (let i = 0; i + 1 < xy.length; i += 2) out.push({ x: xy[i], y: xy[i + 1] });
  return out;
}
