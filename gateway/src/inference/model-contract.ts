/**
 * The Wav2Lip model contract (architecture.md §2). The ONNX file, Triton's config.pbtxt and every
 * backend agree on exactly these names, datatypes and per-sample dims; the batch dim N is dynamic.
 */
export const MODEL_NAME = 'wav2lip';
export const FACE_SIZE = 96;
export const MEL_BANDS = 80;
export const MEL_WINDOW = 16;

export type Datatype = 'FP32' | 'FP16' | 'UINT8' | 'INT64';

export interface TensorSpec {
  name: string;
  datatype: Datatype;
  /** dims without the batch dimension */
  dims: number[];
}

export const CONTRACT_INPUTS: readonly TensorSpec[] = [
  { name: 'mel', datatype: 'FP32', dims: [1, MEL_BANDS, MEL_WINDOW] },
  { name: 'face', datatype: 'UINT8', dims: [FACE_SIZE, FACE_SIZE, 3] },
];
export const CONTRACT_OUTPUTS: readonly TensorSpec[] = [{ name: 'mouth', datatype: 'UINT8', dims: [FACE_SIZE, FACE_SIZE, 3] }];

export const MEL_WINDOW_ELEMENTS = MEL_BANDS * MEL_WINDOW; // floats per frame in `mel`
export const FACE_ELEMENTS = FACE_SIZE * FACE_SIZE * 3; // bytes per frame in `face` and `mouth`

/** What a backend can tell about a served model: tensor names, datatypes and full shapes (batch dim first, -1 = dynamic). */
export interface ModelSignature {
  inputs: { name: string; datatype: string; shape: number[] }[];
  outputs: { name: string; datatype: string; shape: number[] }[];
}

/**
 * Compares a served model with the contract. Returns one line per problem (empty = matches).
 * The leading batch dim must be dynamic (-1 or a symbolic dim reported as -1).
 */
export function checkContract(sig: ModelSignature): string[] {
  const problems: string[] = [];
  const check = (kind: 'input' | 'output', expected: readonly TensorSpec[], actual: ModelSignature['inputs']) => {
    for (const spec of expected) {
      const t = actual.find((a) => a.name === spec.name);
      if (!t) {
        problems.push(`missing ${kind} '${spec.name}' (model has: ${actual.map((a) => a.name).join(', ') || 'none'})`);
        continue;
      }
      if (t.datatype !== spec.datatype) problems.push(`${kind} '${spec.name}' is ${t.datatype}, expected ${spec.datatype}`);
      const want = [-1, ...spec.dims];
      if (t.shape.length !== want.length || t.shape.some((d, i) => (i === 0 ? d !== -1 : d !== want[i]))) {
        problems.push(`${kind} '${spec.name}' has shape [${t.shape.join(',')}], expected [${want.join(',')}] (-1 = dynamic batch)`);
      }
    }
    for (const t of actual) {
      if (!expected.some((s) => s.name === t.name)) problems.push(`unexpected ${kind} '${t.name}'`);
    }
  };
  check('input', CONTRACT_INPUTS, sig.inputs);
  check('output', CONTRACT_OUTPUTS, sig.outputs);
  return problems;
}
