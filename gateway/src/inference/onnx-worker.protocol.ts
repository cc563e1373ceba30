import type { OrtValueMetadata } from './ort-signature';

/** Messages between OnnxBackend (parent) and the onnx worker thread. Buffers travel as transferred ArrayBuffers. */
export type ToWorker =
  | { type: 'load'; modelPath: string; threads: number }
  | { type: 'run'; id: number; n: number; mel: ArrayBuffer; face: ArrayBuffer }
  | { type: 'cancel'; id: number }
  /** finish the batch that is running (if any), drop the queue, release the session, exit */
  | { type: 'close' };

export type FromWorker =
  | { type: 'loaded'; inputs: OrtValueMetadata[]; outputs: OrtValueMetadata[] }
  | { type: 'load-failed'; message: string }
  /** startedAt is epoch ms (timeOrigin + now), comparable across threads */
  | { type: 'done'; id: number; mouth: ArrayBuffer; modelMs: number; startedAt: number }
  | { type: 'failed'; id: number; message: string }
  /** a cancelled batch that never started */
  | { type: 'dropped'; id: number };
