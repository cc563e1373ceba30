import { GatewayError, throwIfAborted } from '../common/errors';
import { assertValidBatch } from './batch-check';
import { BatchTimingRecorder, type BackendStats, type BatchTiming } from './batch-timings';
import type { BackendReadiness, InferenceBackend, InferOptions, Wav2LipBatch } from './inference-backend';
import { CONTRACT_INPUTS, CONTRACT_OUTPUTS, FACE_ELEMENTS, FACE_SIZE, MEL_WINDOW_ELEMENTS, type ModelSignature } from './model-contract';

export interface FakeBackendOptions {
  /** largest accepted batch; larger batches fail with INFERENCE_FAILED */
  maxBatch?: number;
  /** artificial per-batch latency (honours signal and deadline while waiting) */
  delayMs?: number;
  /** 1-based: the k-th infer call fails with INFERENCE_FAILED */
  failOnCall?: number;
  /** when set, start() leaves the backend not ready with this reason */
  notReadyReason?: string;
}

/** Rows the fake "opens" the mouth by at full mel energy. */
export const FAKE_MAX_OPEN_ROWS = 12;
const HALF = FACE_SIZE / 2;
const ROW_BYTES = FACE_SIZE * 3;

/** How many rows the fake mouth opens for one mel window: 0 at the mel floor (-4, silence), 12 at +4. */
export function fakeOpenRows(melWindow: Float32Array): number {
  let sum = 0;
  for (const v of melWindow) sum += v;
  const energy = Math.min(1, Math.max(0, (sum / melWindow.length + 4) / 8));
  return Math.round(energy * FAKE_MAX_OPEN_ROWS);
}

/**
 * The fake model: the upper half of each face is unchanged; the lower half slides down by
 * fakeOpenRows(mel) rows, leaving black rows (an "open mouth") below the middle line.
 */
export function fakeMouth(batch: Wav2LipBatch): Uint8Array {
  const out = new Uint8Array(batch.n * FACE_ELEMENTS);
  for (let i = 0; i < batch.n; i++) {
    const open = fakeOpenRows(batch.mel.subarray(i * MEL_WINDOW_ELEMENTS, (i + 1) * MEL_WINDOW_ELEMENTS));
    const base = i * FACE_ELEMENTS;
    out.set(batch.face.subarray(base, base + HALF * ROW_BYTES), base);
    for (let y = HALF + open; y < FACE_SIZE; y++) {
      const src = base + (y - open) * ROW_BYTES;
      out.set(batch.face.subarray(src, src + ROW_BYTES), base + y * ROW_BYTES);
    }
  }
  return out;
}

/** The contract as a served signature (dynamic batch). */
export function contractSignature(): ModelSignature {
  const full = (s: { name: string; datatype: string; dims: number[] }) => ({ name: s.name, datatype: s.datatype, shape: [-1, ...s.dims] });
  return { inputs: CONTRACT_INPUTS.map(full), outputs: CONTRACT_OUTPUTS.map(full) };
}

/** Deterministic, strict backend for tests (architecture.md §3): every batch is checked against the contract. */
export class FakeBackend implements InferenceBackend {
  readonly kind = 'fake' as const;
  /** batch size of every accepted infer call, in call order */
  readonly calls: number[] = [];
  private state: BackendReadiness = { ready: false, reason: 'not started' };
  private callCount = 0;
  private readonly timings = new BatchTimingRecorder();

  constructor(private readonly options: FakeBackendOptions = {}) {}

  async start(): Promise<void> {
    const reason = this.options.notReadyReason;
    this.state = reason ? { ready: false, reason } : { ready: true, signature: contractSignature() };
  }

  readiness(): BackendReadiness {
    return { ...this.state };
  }

  stats(): BackendStats {
    return this.timings.snapshot();
  }

  onBatch(listener: (t: BatchTiming) => void): () => void {
    return this.timings.onBatch(listener);
  }

  async infer(batch: Wav2LipBatch, opts: InferOptions = {}): Promise<Uint8Array> {
    throwIfAborted(opts.signal);
    if (!this.state.ready) throw new GatewayError('BACKEND_UNAVAILABLE', `fake backend is not ready: ${this.state.reason}`);
    assertValidBatch(batch, this.options.maxBatch);
    this.callCount++;
    this.calls.push(batch.n);
    const started = performance.now();
    this.timings.begin();
    try {
      await this.wait(opts);
      if (this.callCount === this.options.failOnCall) {
        this.timings.failed();
        throw new GatewayError('INFERENCE_FAILED', `fake backend: injected failure on call ${this.callCount}`);
      }
      const out = fakeMouth(batch);
      const ms = performance.now() - started;
      this.timings.record({ n: batch.n, queueMs: 0, modelMs: ms, totalMs: ms });
      return out;
    } finally {
      this.timings.end();
    }
  }

  async close(): Promise<void> {
    this.state = { ready: false, reason: 'closed' };
  }

  private wait({ signal, deadlineMs }: InferOptions): Promise<void> {
    const delay = this.options.delayMs ?? 0;
    if (deadlineMs !== undefined && deadlineMs <= 0) {
      return Promise.reject(new GatewayError('DEADLINE_EXCEEDED', 'the inference batch missed its deadline'));
    }
    if (delay <= 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (err?: GatewayError) => {
        clearTimeout(timer);
        clearTimeout(deadline);
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve();
      };
      const onAbort = () => done(new GatewayError('CANCELLED', 'the inference batch was cancelled'));
      const timer = setTimeout(() => done(), delay);
      const deadline =
        deadlineMs === undefined || deadlineMs >= delay
          ? undefined
          : setTimeout(() => done(new GatewayError('DEADLINE_EXCEEDED', 'the inference batch missed its deadline')), deadlineMs);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
