import type { ModelSignature } from './model-contract';

export type BackendKind = 'onnx' | 'triton' | 'fake';

/**
 * Batches one render (or live session) keeps in a remote backend at once: while one is composited and
 * encoded the next is already at the server, so the model never waits for the CPU (render-pipeline.ts).
 */
export const REMOTE_INFER_DEPTH = 2;

/** One batch in the model contract's layout. */
export interface Wav2LipBatch {
  /** number of frames N in this batch */
  n: number;
  /** `mel` input, N×1×80×16 float32, row-major */
  mel: Float32Array;
  /** `face` input, N×96×96×3 uint8 RGB, NHWC */
  face: Uint8Array;
}

export interface InferOptions {
  signal?: AbortSignal;
  /** per-call deadline in ms; exceeded → GatewayError DEADLINE_EXCEEDED */
  deadlineMs?: number;
}

export interface BackendReadiness {
  ready: boolean;
  /** why not ready (human readable), absent when ready */
  reason?: string;
  /** the served model's signature once known */
  signature?: ModelSignature;
  /** the served model's precision (fp32, int8, fp16) when the backend knows it */
  precision?: string;
}

/**
 * The only interface with several implementations (architecture.md §3): `onnx` (in-process
 * onnxruntime-node, default), `triton` (KServe v2 gRPC) and `fake` (tests).
 *
 * Implementations must: check the model contract in `start()` (a mismatch makes them not ready,
 * with the reason), honour `signal` and `deadlineMs` on every `infer`, and throw only GatewayError
 * (BACKEND_UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED, INFERENCE_FAILED, MODEL_CONTRACT_MISMATCH).
 */
export interface InferenceBackend {
  readonly kind: BackendKind;
  /** Connects / loads the model and checks the contract. Never throws for an unreachable server: it records the reason. */
  start(): Promise<void>;
  /** Cached readiness (for /readyz); cheap. */
  readiness(): BackendReadiness;
  /** Runs one batch; resolves with the `mouth` output, N×96×96×3 uint8 RGB, NHWC. */
  infer(batch: Wav2LipBatch, opts?: InferOptions): Promise<Uint8Array>;
  close(): Promise<void>;
}

export const INFERENCE_BACKEND = Symbol('INFERENCE_BACKEND');
