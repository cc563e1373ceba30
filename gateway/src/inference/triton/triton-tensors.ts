import * as os from 'os';
import { GatewayError } from '../../common/errors';
import type { Wav2LipBatch } from '../inference-backend';
import { CONTRACT_OUTPUTS, FACE_ELEMENTS, FACE_SIZE, MEL_BANDS, MEL_WINDOW, MEL_WINDOW_ELEMENTS, ModelSignature } from '../model-contract';
import type { ModelInferRequest, ModelInferResponse, ModelMetadataResponse } from './triton-proto';

export const OUTPUT_NAME = CONTRACT_OUTPUTS[0].name; // 'mouth'
const LITTLE_ENDIAN_HOST = os.endianness() === 'LE';

/** FP32 values as raw little-endian bytes (zero-copy view on little-endian hosts). */
export function float32ToLeBytes(values: Float32Array, littleEndianHost = LITTLE_ENDIAN_HOST): Buffer {
  if (littleEndianHost) return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  const out = Buffer.allocUnsafe(values.length * 4);
  for (let i = 0; i < values.length; i++) out.writeFloatLE(values[i], i * 4);
  return out;
}

/** Checks a batch against the contract sizes before anything goes on the wire. */
export function assertBatchShape(batch: Wav2LipBatch): void {
  const { n, mel, face } = batch;
  if (!Number.isInteger(n) || n < 1) throw new GatewayError('INFERENCE_FAILED', `batch size must be a positive integer, got ${n}`);
  if (mel.length !== n * MEL_WINDOW_ELEMENTS) {
    throw new GatewayError('INFERENCE_FAILED', `batch of ${n} frames needs ${n * MEL_WINDOW_ELEMENTS} mel floats, got ${mel.length}`);
  }
  if (face.length !== n * FACE_ELEMENTS) {
    throw new GatewayError('INFERENCE_FAILED', `batch of ${n} frames needs ${n * FACE_ELEMENTS} face bytes, got ${face.length}`);
  }
}

/** Builds a ModelInferRequest with both inputs as raw_input_contents (row-major, little-endian). */
export function buildInferRequest(model: string, batch: Wav2LipBatch, id: string): ModelInferRequest {
  assertBatchShape(batch);
  const { n, mel, face } = batch;
  return {
    model_name: model,
    model_version: '',
    id,
    inputs: [
      { name: 'mel', datatype: 'FP32', shape: [n, 1, MEL_BANDS, MEL_WINDOW] },
      { name: 'face', datatype: 'UINT8', shape: [n, FACE_SIZE, FACE_SIZE, 3] },
    ],
    outputs: [{ name: OUTPUT_NAME }],
    raw_input_contents: [float32ToLeBytes(mel), Buffer.from(face.buffer, face.byteOffset, face.byteLength)],
  };
}

/**
 * Reads the `mouth` output by name (Triton's output order is its own, triton.md §1.8) and checks
 * datatype, shape and byte count; any mismatch is INFERENCE_FAILED with a message that says what.
 */
export function extractMouth(res: ModelInferResponse, n: number): Uint8Array {
  const outputs = res.outputs ?? [];
  const idx = outputs.findIndex((o) => o.name === OUTPUT_NAME);
  if (idx < 0) {
    const names = outputs.map((o) => o.name).join(', ') || 'none';
    throw new GatewayError('INFERENCE_FAILED', `Triton response has no output '${OUTPUT_NAME}' (outputs: ${names})`);
  }
  const out = outputs[idx];
  if (out.datatype !== 'UINT8') {
    throw new GatewayError('INFERENCE_FAILED', `Triton output '${OUTPUT_NAME}' is ${out.datatype}, expected UINT8`);
  }
  const want = [n, FACE_SIZE, FACE_SIZE, 3];
  const shape = (out.shape ?? []).map(Number);
  if (shape.length !== want.length || shape.some((d, i) => d !== want[i])) {
    throw new GatewayError(
      'INFERENCE_FAILED',
      `Triton output '${OUTPUT_NAME}' has shape [${shape.join(',')}], expected [${want.join(',')}]`,
    );
  }
  const raw = res.raw_output_contents?.[idx];
  const expectedBytes = n * FACE_ELEMENTS;
  if (!raw || raw.length !== expectedBytes) {
    throw new GatewayError(
      'INFERENCE_FAILED',
      `Triton output '${OUTPUT_NAME}' has ${raw ? raw.length : 'no'} raw bytes, expected ${expectedBytes} for ${n} frames`,
    );
  }
  // uint8 needs no alignment, so a view on the received Buffer is safe
  return new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
}

/** ModelMetadata → the signature checkContract() understands (int64 dims arrive as strings). */
export function signatureFromMetadata(md: ModelMetadataResponse): ModelSignature {
  const conv = (ts: ModelMetadataResponse['inputs']) =>
    (ts ?? []).map((t) => ({ name: t.name, datatype: t.datatype, shape: (t.shape ?? []).map(Number) }));
  return { inputs: conv(md.inputs), outputs: conv(md.outputs) };
}
