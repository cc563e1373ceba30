import { GatewayError } from '../common/errors';
import { FACE_ELEMENTS, MEL_WINDOW_ELEMENTS } from './model-contract';
import type { Wav2LipBatch } from './inference-backend';

/**
 * Checks a batch against the contract's per-frame sizes before it reaches a model: a wrong length is
 * a pipeline bug, and catching it here gives a clear message instead of an opaque runtime error.
 */
export function assertValidBatch(batch: Wav2LipBatch, maxBatch?: number): void {
  const { n, mel, face } = batch;
  const fail = (msg: string) => {
    throw new GatewayError('INFERENCE_FAILED', `invalid inference batch: ${msg}`);
  };
  if (!Number.isInteger(n) || n < 1) fail(`n must be a positive integer, got ${n}`);
  if (maxBatch !== undefined && n > maxBatch) fail(`n=${n} exceeds the maximum batch size ${maxBatch}`);
  if (!(mel instanceof Float32Array)) fail('mel must be a Float32Array');
  if (!(face instanceof Uint8Array)) fail('face must be a Uint8Array');
  if (mel.length !== n * MEL_WINDOW_ELEMENTS) fail(`mel has ${mel.length} floats, expected ${n}×${MEL_WINDOW_ELEMENTS}`);
  if (face.length !== n * FACE_ELEMENTS) fail(`face has ${face.length} bytes, expected ${n}×${FACE_ELEMENTS}`);
}

/** Splits a batch into consecutive chunks of at most `max` frames (views, no copies), in frame order. */
export function splitBatch(batch: Wav2LipBatch, max: number): Wav2LipBatch[] {
  if (!(Number.isInteger(max) && max >= 1)) throw new RangeError(`max batch size must be a positive integer, got ${max}`);
  const chunks: Wav2LipBatch[] = [];
  for (let i = 0; i < batch.n; i += max) {
    const n = Math.min(max, batch.n - i);
    chunks.push({
      n,
      mel: batch.mel.subarray(i * MEL_WINDOW_ELEMENTS, (i + n) * MEL_WINDOW_ELEMENTS),
      face: batch.face.subarray(i * FACE_ELEMENTS, (i + n) * FACE_ELEMENTS),
    });
  }
  return chunks;
}
