import { Logger } from '@nestjs/common';
import * as fs from 'fs';
import type { Worker } from 'worker_threads';
import { GatewayError, type ErrorCode, throwIfAborted } from '../common/errors';
import type { AppConfig } from '../config/config';
import { assertValidBatch } from './batch-check';
import { BatchTimingRecorder, type BackendStats, type BatchTiming } from './batch-timings';
import type { BackendReadiness, InferenceBackend, InferOptions, Wav2LipBatch } from './inference-backend';
import { checkContract, FACE_ELEMENTS, MEL_WINDOW_ELEMENTS } from './model-contract';
import type { FromWorker, ToWorker } from './onnx-worker.protocol';
import { signatureFromOrtMetadata } from './ort-signature';
import { readOnnxMetadata } from './onnx-metadata';
import { modelBuildHint, precisionMismatch, servedPrecision } from './model-precision';
import { siblingModule, startModuleWorker } from '../common/worker-loader';

/** a batch of 128 frames takes ~17 s on one slow core: wait that long before forcing the worker down */
const WORKER_EXIT_TIMEOUT_MS = 60_000;

export type OnnxBackendOptions = Pick<AppConfig, 'modelPath' | 'onnxThreads' | 'batchSize' | 'modelPrecision'>;

export const MODEL_BUILD_HINT = modelBuildHint('fp32');

interface Pending {
  n: number;
  calledAt: number;
  /** the caller got its answer (result, CANCELLED or DEADLINE_EXCEEDED); a later worker reply is discarded */
  settled: boolean;
  resolve(out: Uint8Array): void;
  reject(err: GatewayError): void;
  cleanup(): void;
}

const epochMs = () => performance.timeOrigin + performance.now();

/**
 * Embedded backend: onnxruntime-node on the CPU, in one worker thread that owns one session
 * (architecture.md §3). Batches larger than `batchSize` are split; calls run in FIFO order.
 */
export class OnnxBackend implements InferenceBackend {
  readonly kind = 'onnx' as const;
  private readonly logger = new Logger(OnnxBackend.name);
  private worker?: Worker;
  private state: BackendReadiness = { ready: false, reason: 'not started' };
  private notReadyCode: ErrorCode = 'BACKEND_UNAVAILABLE';
  private starting?: Promise<void>;
  /** close() was called: no lazy restarts */
  private closed = false;
  /** the loaded worker died while serving: the next readiness() or infer() starts a new one */
  private lost = false;
  private onLoad?: (msg: FromWorker | Error) => void;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly timings = new BatchTimingRecorder();
  /** workers whose 'exit' has fired: stopping one must not wait for an exit that already happened */
  private readonly exited = new WeakSet<Worker>();

  constructor(private readonly options: OnnxBackendOptions) {}

  get maxBatch(): number {
    return this.options.batchSize;
  }

  /** Loads the model in the worker and checks the contract; when not ready, a later start() tries again. */
  start(): Promise<void> {
    this.closed = false;
    this.lost = false;
    this.starting ??= this.load().finally(() => {
      if (this.state.ready) {
        this.logger.log(
          `model ${this.options.modelPath} loaded (${this.state.precision}, ${this.options.onnxThreads} threads, batches ≤ ${this.options.batchSize})`,
        );
      } else {
        this.logger.warn(`not ready: ${this.state.reason}`);
        this.starting = undefined;
      }
    });
    return this.starting;
  }

  readiness(): BackendReadiness {
    // a worker that died while serving is restarted once, in the background, so callers that gate on readiness recover
    if (this.lost && !this.closed && !this.starting) void this.start();
    return { ...this.state };
  }

  stats(): BackendStats {
    return this.timings.snapshot();
  }

  /** Recent per-batch timings (model-only vs total), oldest first. */
  recentTimings(): BatchTiming[] {
    return this.timings.recent();
  }

  onBatch(listener: (t: BatchTiming) => void): () => void {
    return this.timings.onBatch(listener);
  }

  async infer(batch: Wav2LipBatch, opts: InferOptions = {}): Promise<Uint8Array> {
    throwIfAborted(opts.signal);
    // not ready (the worker died, or the model was not loadable): one start per call, joining one in progress
    if (!this.state.ready && !this.closed) await this.start();
    if (!this.state.ready || !this.worker) {
      throw new GatewayError(this.notReadyCode, `onnx backend is not ready: ${this.state.reason}`);
    }
    assertValidBatch(batch);
    const calledAt = epochMs();
    const deadlineAt = opts.deadlineMs === undefined ? undefined : calledAt + opts.deadlineMs;
    const max = this.options.batchSize;
    if (batch.n <= max) return this.submit(batch, calledAt, opts.signal, deadlineAt);

    // split an oversized batch; the first failure aborts the chunks that have not run yet
    const inner = new AbortController();
    const relay = () => inner.abort();
    opts.signal?.addEventListener('abort', relay, { once: true });
    try {
      const parts: Promise<Uint8Array>[] = [];
      for (let i = 0; i < batch.n; i += max) {
        const n = Math.min(max, batch.n - i);
        const chunk: Wav2LipBatch = {
          n,
          mel: batch.mel.subarray(i * MEL_WINDOW_ELEMENTS, (i + n) * MEL_WINDOW_ELEMENTS),
          face: batch.face.subarray(i * FACE_ELEMENTS, (i + n) * FACE_ELEMENTS),
        };
        parts.push(
          this.submit(chunk, calledAt, inner.signal, deadlineAt).catch((e: unknown) => {
            inner.abort();
            throw e;
          }),
        );
      }
      const outs = await Promise.all(parts);
      const mouth = new Uint8Array(batch.n * FACE_ELEMENTS);
      outs.forEach((o, k) => mouth.set(o, k * max * FACE_ELEMENTS));
      return mouth;
    } finally {
      opts.signal?.removeEventListener('abort', relay);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.state = { ready: false, reason: 'closed' };
    this.notReadyCode = 'BACKEND_UNAVAILABLE';
    this.failAll('BACKEND_UNAVAILABLE', 'the onnx backend was closed');
    const w = this.worker;
    this.worker = undefined;
    this.starting = undefined;
    if (w) await this.stopWorker(w);
  }

  private async load(): Promise<void> {
    const { modelPath, onnxThreads } = this.options;
    const told = this.options.modelPrecision ?? 'fp32';
    const hint = modelBuildHint(told);
    if (!fs.existsSync(modelPath)) {
      this.state = { ready: false, reason: `${told} model file not found: ${modelPath}; ${hint}` };
      return;
    }
    // onnxruntime-node exposes no model metadata: read the file's own `precision` (a few small reads)
    const declared = (await readOnnxMetadata(modelPath).catch((): Record<string, string> => ({}))).precision;
    if (this.closed) return; // close() ran during the read: keep its 'closed' state, start no worker
    const mismatch = precisionMismatch(told, declared);
    if (mismatch) {
      this.notReadyCode = 'MODEL_CONTRACT_MISMATCH';
      this.state = { ready: false, reason: `MODEL_CONTRACT_MISMATCH: ${modelPath}: ${mismatch}` };
      return;
    }
    const worker = startModuleWorker(siblingModule(__filename, 'onnx-worker'));
    this.worker = worker;
    worker.on('message', (msg: FromWorker) => this.onMessage(msg));
    worker.on('error', (err) => this.onWorkerGone(`onnx worker failed: ${err.message}`));
    worker.on('exit', (code) => {
      this.exited.add(worker);
      this.onWorkerGone(`onnx worker exited (code ${code})`);
    });

    const reply = await new Promise<FromWorker | Error>((resolve) => {
      this.onLoad = resolve;
      this.post({ type: 'load', modelPath, threads: onnxThreads });
    });
    this.onLoad = undefined;
    if (this.worker !== worker) {
      // close() ran during the load (it drops this.worker): keep its 'closed' state and make sure this worker is gone
      await this.stopWorker(worker);
      return;
    }
    if (reply instanceof Error || reply.type !== 'loaded') {
      const why = reply instanceof Error ? reply.message : reply.type === 'load-failed' ? reply.message : reply.type;
      this.state = { ready: false, reason: `failed to load ${modelPath}: ${why}; ${hint}` };
      await this.stopWorker(worker);
      return;
    }
    const signature = signatureFromOrtMetadata(reply.inputs, reply.outputs);
    const problems = checkContract(signature);
    if (problems.length) {
      this.notReadyCode = 'MODEL_CONTRACT_MISMATCH';
      this.state = {
        ready: false,
        reason: `MODEL_CONTRACT_MISMATCH: ${modelPath} does not match the wav2lip contract: ${problems.join('; ')}`,
        signature,
      };
      await this.stopWorker(worker);
      return;
    }
    this.state = { ready: true, signature, precision: servedPrecision(told, declared) };
    worker.unref(); // an idle backend must not keep the process alive; ref'd again while batches are pending
  }

  private submit(batch: Wav2LipBatch, calledAt: number, signal?: AbortSignal, deadlineAt?: number): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      if (deadlineAt !== undefined && deadlineAt <= epochMs()) {
        reject(new GatewayError('DEADLINE_EXCEEDED', 'the inference batch missed its deadline'));
        return;
      }
      const id = this.nextId++;
      const giveUp = (code: 'CANCELLED' | 'DEADLINE_EXCEEDED', message: string) => {
        if (p.settled) return;
        p.settled = true;
        p.cleanup();
        this.post({ type: 'cancel', id });
        reject(new GatewayError(code, message));
      };
      const onAbort = () => giveUp('CANCELLED', 'the inference batch was cancelled');
      const timer =
        deadlineAt === undefined
          ? undefined
          : setTimeout(() => giveUp('DEADLINE_EXCEEDED', 'the inference batch missed its deadline'), Math.max(0, deadlineAt - epochMs()));
      const p: Pending = {
        n: batch.n,
        calledAt,
        settled: false,
        resolve,
        reject,
        cleanup: () => {
          if (timer) clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, p);
      this.timings.begin();
      if (this.pending.size === 1) this.worker?.ref();
      // copy into fresh buffers and transfer those: the caller keeps its arrays (face crops are often reused)
      const mel = new Float32Array(batch.mel);
      const face = new Uint8Array(batch.face);
      this.post({ type: 'run', id, n: batch.n, mel: mel.buffer, face: face.buffer }, [mel.buffer, face.buffer]);
    });
  }

  private onMessage(msg: FromWorker): void {
    if (msg.type === 'loaded' || msg.type === 'load-failed') {
      this.onLoad?.(msg);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    this.timings.end();
    if (this.pending.size === 0) this.worker?.unref();
    if (msg.type === 'failed') this.timings.failed();
    if (msg.type === 'dropped') this.timings.dropped();
    if (p.settled) return; // cancelled or past its deadline: the result is discarded
    p.settled = true;
    p.cleanup();
    if (msg.type === 'failed') {
      p.reject(new GatewayError('INFERENCE_FAILED', `onnx inference failed: ${msg.message}`));
    } else if (msg.type === 'dropped') {
      p.reject(new GatewayError('CANCELLED', 'the inference batch was cancelled'));
    } else {
      const mouth = new Uint8Array(msg.mouth);
      if (mouth.length !== p.n * FACE_ELEMENTS) {
        p.reject(new GatewayError('INFERENCE_FAILED', `model returned ${mouth.length} bytes for ${p.n} frames`));
        return;
      }
      const now = epochMs();
      this.timings.record({ n: p.n, queueMs: Math.max(0, msg.startedAt - p.calledAt), modelMs: msg.modelMs, totalMs: now - p.calledAt });
      p.resolve(mouth);
    }
  }

  private onWorkerGone(reason: string): void {
    if (this.onLoad) {
      this.onLoad(new Error(reason));
      return;
    }
    if (!this.worker) return; // closed on purpose
    this.worker = undefined;
    this.starting = undefined;
    this.lost = true;
    this.state = { ready: false, reason };
    this.logger.error(reason);
    this.failAll('BACKEND_UNAVAILABLE', reason);
  }

  private failAll(code: ErrorCode, message: string): void {
    for (const p of this.pending.values()) {
      this.timings.end();
      if (p.settled) continue;
      p.settled = true;
      p.cleanup();
      p.reject(new GatewayError(code, message));
    }
    this.pending.clear();
  }

  private post(msg: ToWorker, transfer: ArrayBuffer[] = []): void {
    this.worker?.postMessage(msg, transfer);
  }

  /**
   * Asks the worker to exit once its running batch is done (see closeWorker in onnx-worker.ts);
   * terminate() mid-run would abort the process. Terminates only if it does not exit in time.
   */
  private async stopWorker(worker: Worker): Promise<void> {
    if (this.worker === worker) this.worker = undefined;
    if (this.exited.has(worker)) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.ref(); // keep the process alive until the worker is really gone
    try {
      worker.postMessage({ type: 'close' } satisfies ToWorker);
    } catch {
      return; // already gone
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      exited.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), WORKER_EXIT_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    if (timedOut) await worker.terminate();
  }
}
