import * as path from 'path';
import { ConfigError, defaultModelPath, loadConfig, REPO_ROOT } from '../../../gateway/src/config/config';
import { modelBuildHint, precisionMismatch, servedPrecision } from '../../../gateway/src/inference/model-precision';

describe('model precision (MODEL_PRECISION)', () => {
  it('should default to the FP32 model and pick the int8 model for MODEL_PRECISION=int8', () => {
    const fp32 = loadConfig({});
    expect(fp32.modelPrecision).toBe('fp32');
    expect(fp32.modelPath).toBe(path.join(REPO_ROOT, 'model_repository', 'wav2lip', '1', 'model.onnx'));
    const int8 = loadConfig({ MODEL_PRECISION: 'int8' });
    expect(int8.modelPrecision).toBe('int8');
    expect(int8.modelPath).toBe(path.join(REPO_ROOT, 'model_repository', 'wav2lip_int8', '1', 'model.onnx'));
    expect(int8.modelPath).toBe(defaultModelPath('int8'));
  });

  it('should keep an explicit MODEL_PATH and refuse other precisions', () => {
    expect(loadConfig({ MODEL_PRECISION: 'int8', MODEL_PATH: '/m/q.onnx' }).modelPath).toBe('/m/q.onnx');
    expect(() => loadConfig({ MODEL_PRECISION: 'int4' })).toThrow(ConfigError);
    expect(() => loadConfig({ MODEL_PRECISION: 'fp16' })).toThrow(/MODEL_PRECISION/);
  });

  it('should name the build command of each precision', () => {
    expect(modelBuildHint('int8')).toBe('build it with `bash scripts/setup-model.sh --int8`');
    expect(modelBuildHint('fp32')).toBe('build it with `bash scripts/setup-model.sh`');
  });

  it('should accept matching or undeclared files and refuse int8 vs float mix-ups', () => {
    expect(precisionMismatch('int8', 'int8')).toBeUndefined();
    expect(precisionMismatch('fp32', 'fp32')).toBeUndefined();
    expect(precisionMismatch('fp32', 'fp16')).toBeUndefined(); // a float model (ORT CPU computes it in FP32)
    expect(precisionMismatch('int8', undefined)).toBeUndefined();
    expect(precisionMismatch('int8', 'fp32')).toBe(
      'the model file is fp32 but MODEL_PRECISION=int8; build it with `bash scripts/setup-model.sh --int8` or set MODEL_PRECISION=fp32',
    );
    expect(precisionMismatch('fp32', 'int8')).toContain('set MODEL_PRECISION=int8');
    expect(servedPrecision('int8', undefined)).toBe('int8');
    expect(servedPrecision('fp32', 'fp16')).toBe('fp16');
  });
});
