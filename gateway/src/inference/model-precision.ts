import type { ModelPrecision } from '../config/config';

/** How to build the model file of each precision (said whenever it is missing or of the wrong kind). */
export function modelBuildHint(precision: ModelPrecision = 'fp32'): string {
  return precision === 'int8' ? 'build it with `bash scripts/setup-model.sh --int8`' : 'build it with `bash scripts/setup-model.sh`';
}

/**
 * The embedded backend serves the precision it was told (MODEL_PRECISION). `declared` is the file's own
 * `precision` metadata (export_onnx.py writes fp32, fp16 or int8; other tools write none). Returns why the
 * file does not fit, or undefined. FP16 files count as float models (ORT's CPU provider computes them in FP32).
 */
export function precisionMismatch(told: ModelPrecision, declared: string | undefined): string | undefined {
  if (declared === undefined || (declared === 'int8') === (told === 'int8')) return undefined;
  return `the model file is ${declared} but MODEL_PRECISION=${told}; ${modelBuildHint(told)} or set MODEL_PRECISION=${declared === 'int8' ? 'int8' : 'fp32'}`;
}

/** What readiness reports as served: the file's own declaration when it has one. */
export function servedPrecision(told: ModelPrecision, declared: string | undefined): string {
  return declared ?? told;
}
