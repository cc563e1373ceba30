import type { ModelSignature } from './model-contract';

/**
 * The shape of onnxruntime's `InferenceSession.inputMetadata` / `outputMetadata` entries (1.30), kept
 * structural so this mapping stays pure and can run on metadata posted back from the worker thread.
 */
export interface OrtValueMetadata {
  name: string;
  isTensor: boolean;
  /** ORT tensor type, e.g. 'float32', 'uint8' (tensors only) */
  type?: string;
  /** numbers for fixed dims, strings for symbolic (dynamic) dims (tensors only) */
  shape?: ReadonlyArray<number | string>;
}

const ORT_TO_DATATYPE: Record<string, string> = {
  float32: 'FP32',
  float16: 'FP16',
  float64: 'FP64',
  uint8: 'UINT8',
  int8: 'INT8',
  uint16: 'UINT16',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  uint32: 'UINT32',
  uint64: 'UINT64',
  bool: 'BOOL',
  string: 'BYTES',
};

/** ORT element type → the KServe/Triton datatype names the contract uses; unknown types pass through upper-cased. */
export function ortTypeToDatatype(type: string | undefined): string {
  if (type === undefined) return 'NON_TENSOR';
  return ORT_TO_DATATYPE[type] ?? type.toUpperCase();
}

/** Symbolic dims (strings) and negative dims are dynamic and reported as -1, as Triton does. */
export function ortShapeToDims(shape: ReadonlyArray<number | string> | undefined): number[] {
  return (shape ?? []).map((d) => (typeof d === 'number' && d >= 0 ? d : -1));
}

/** Maps a session's metadata to the backend-neutral ModelSignature that checkContract() reads. */
export function signatureFromOrtMetadata(inputs: readonly OrtValueMetadata[], outputs: readonly OrtValueMetadata[]): ModelSignature {
  const map = (m: OrtValueMetadata) => ({
    name: m.name,
    datatype: m.isTensor ? ortTypeToDatatype(m.type) : 'NON_TENSOR',
    shape: m.isTensor ? ortShapeToDims(m.shape) : [],
  });
  return { inputs: inputs.map(map), outputs: outputs.map(map) };
}
