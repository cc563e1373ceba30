import * as grpc from '@grpc/grpc-js';
import { CONTRACT_INPUTS } from '../../gateway/src/inference/model-contract';

/** One ModelInfer request's inputs, validated and copied out of the gRPC message. */
export interface ModelInput {
  n: number;
  mel: Float32Array;
  face: Uint8Array;
}

export const grpcError = (code: grpc.status, details: string) => Object.assign(new Error(details), { code, details });

interface InferTensor {
  name: string;
  datatype: string;
  shape: (number | string)[];
}

/** Validates the inputs like Triton does (names, dtypes, raw byte counts, one batch size) and copies them out aligned. */
export function decodeInputs(req: { inputs?: InferTensor[]; raw_input_contents?: Buffer[] }): ModelInput {
  const raws: Buffer[] = req.raw_input_contents ?? [];
  const tensors = req.inputs ?? [];
  if (raws.length !== tensors.length) {
    throw grpcError(grpc.status.INVALID_ARGUMENT, `expected ${tensors.length} raw_input_contents, got ${raws.length}`);
  }
  const out: Partial<ModelInput> = {};
  for (const spec of CONTRACT_INPUTS) {
    const i = tensors.findIndex((t) => t.name === spec.name);
    if (i < 0) throw grpcError(grpc.status.INVALID_ARGUMENT, `missing input '${spec.name}'`);
    const t = tensors[i];
    if (t.datatype !== spec.datatype)
      throw grpcError(grpc.status.INVALID_ARGUMENT, `input '${spec.name}' datatype ${t.datatype}, expected ${spec.datatype}`);
    const shape = t.shape.map(Number);
    if (shape.length !== spec.dims.length + 1 || spec.dims.some((d, k) => shape[k + 1] !== d)) {
      throw grpcError(
        grpc.status.INVALID_ARGUMENT,
        `input '${spec.name}' shape [${shape.join(',')}], expected [-1,${spec.dims.join(',')}]`,
      );
    }
    const elems = shape.reduce((a, b) => a * b, 1);
    const size = spec.datatype === 'FP32' ? 4 : 1;
    if (raws[i].length !== elems * size) {
      throw grpcError(grpc.status.INVALID_ARGUMENT, `input '${spec.name}' has ${raws[i].length} bytes, shape needs ${elems * size}`);
    }
    if (out.n !== undefined && out.n !== shape[0]) {
      throw grpcError(grpc.status.INVALID_ARGUMENT, `inputs disagree on the batch size (${out.n} vs ${shape[0]})`);
    }
    out.n = shape[0];
    const copy = Buffer.from(raws[i]); // own, aligned copy (received Buffers may sit at odd offsets)
    if (spec.datatype === 'FP32') out.mel = new Float32Array(copy.buffer, copy.byteOffset, elems);
    else out.face = new Uint8Array(copy.buffer, copy.byteOffset, elems);
  }
  return out as ModelInput;
}
