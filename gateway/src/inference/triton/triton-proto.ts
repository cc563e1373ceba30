import * as fs from 'fs';
import * as path from 'path';
import * as protoLoader from '@grpc/proto-loader';

/**
 * The KServe v2 protos are hand-written (gateway/proto/, from shared/docs/triton.md) and loaded at
 * runtime with @grpc/proto-loader rather than generated into TypeScript. Why: no codegen step in the
 * build or in CI, the .proto files stay the single source of truth (the test server loads the very
 * same files), and the handful of messages the gateway touches are typed by hand below. Options follow
 * triton.md §1.10: snake_case names as on the wire, int64/uint64 as strings (shapes, ns counters),
 * bytes as Buffers, defaults filled in.
 */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

export const GRPC_SERVICE_PROTO = 'grpc_service.proto';
export const INFERENCE_SERVICE_NAME = 'inference.GRPCInferenceService';

/**
 * Finds gateway/proto by walking up from this file, so it works from gateway/src (ts-jest), from
 * dist/ (compiled, repo checkout) and inside the Docker image (which copies gateway/proto).
 */
export function findProtoDir(start: string = __dirname): string {
  let dir = start;
  for (;;) {
    const candidate = path.join(dir, 'gateway', 'proto');
    if (fs.existsSync(path.join(candidate, GRPC_SERVICE_PROTO))) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`gateway/proto/${GRPC_SERVICE_PROTO} not found above ${start}`);
    dir = parent;
  }
}

export function loadInferenceProto(protoDir: string = findProtoDir()): protoLoader.PackageDefinition {
  return protoLoader.loadSync(path.join(protoDir, GRPC_SERVICE_PROTO), {
    ...PROTO_LOADER_OPTIONS,
    includeDirs: [protoDir],
  });
}

// ---- the message shapes the gateway reads and writes (proto-loader objects, keepCase) ----

/** int64 fields arrive as strings (longs: String); we send numbers, which the encoder accepts. */
export type Int64 = string | number;

export interface TensorMetadata {
  name: string;
  datatype: string;
  shape: Int64[];
}

export interface ModelMetadataResponse {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

export interface InferInputTensor {
  name: string;
  datatype: string;
  shape: Int64[];
}

export interface ModelInferRequest {
  model_name: string;
  model_version?: string;
  id?: string;
  inputs: InferInputTensor[];
  outputs?: { name: string }[];
  raw_input_contents: Buffer[];
}

export interface ModelInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: InferInputTensor[];
  raw_output_contents: Buffer[];
}

export interface StatisticDuration {
  count: Int64;
  ns: Int64;
}

export interface ModelStatistics {
  name: string;
  version: string;
  last_inference: Int64;
  inference_count: Int64;
  execution_count: Int64;
  inference_stats: Partial<Record<'success' | 'fail' | 'queue' | 'compute_input' | 'compute_infer' | 'compute_output', StatisticDuration>>;
  batch_stats: { batch_size: Int64; compute_infer?: StatisticDuration }[];
}

export interface ModelStatisticsResponse {
  model_stats: ModelStatistics[];
}

export interface ModelConfigResponse {
  config: {
    name: string;
    platform: string;
    backend: string;
    max_batch_size: number;
    input: { name: string; data_type: string; dims: Int64[] }[];
    output: { name: string; data_type: string; dims: Int64[] }[];
  };
}
