import { GatewayError } from '../common/errors';
import type { AppConfig } from '../config/config';
import { FakeBackend } from './fake.backend';
import type { InferenceBackend } from './inference-backend';
import { OnnxBackend } from './onnx.backend';

type BackendClass = new (config: AppConfig) => InferenceBackend;

/** Picks the InferenceBackend named by config.backend (INFERENCE_BACKEND=onnx|triton|fake). */
export function createBackend(config: AppConfig): InferenceBackend {
  switch (config.backend) {
    case 'onnx':
      return new OnnxBackend(config);
    case 'fake':
      return new FakeBackend({ maxBatch: config.batchSize, delayMs: config.fakeBatchDelayMs });
    case 'triton':
      return new (loadTritonBackend())(config);
  }
}

// Lazy: the gRPC stack is only loaded when the Triton backend is actually chosen.
function loadTritonBackend(): BackendClass {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily: the onnx default never loads gRPC
    return (require('./triton/triton.backend') as { TritonBackend: BackendClass }).TritonBackend;
  } catch (e) {
    throw new GatewayError(
      'BACKEND_UNAVAILABLE',
      `the triton backend could not be loaded: ${e instanceof Error ? e.message : String(e)}`,
      undefined,
      { cause: e },
    );
  }
}
