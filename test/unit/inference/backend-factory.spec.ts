import { loadConfig } from '../../../gateway/src/config/config';
import { createBackend } from '../../../gateway/src/inference/backend-factory';
import { FakeBackend } from '../../../gateway/src/inference/fake.backend';
import { OnnxBackend } from '../../../gateway/src/inference/onnx.backend';

describe(createBackend.name, () => {
  it('should build the onnx backend by default, with the configured batch size, without starting it', async () => {
    const sut = createBackend(loadConfig({ MODEL_PATH: '/nowhere/model.onnx' }));
    expect(sut).toBeInstanceOf(OnnxBackend);
    expect(sut.kind).toBe('onnx');
    expect((sut as OnnxBackend).maxBatch).toBe(32);
    expect(sut.readiness()).toEqual({ ready: false, reason: 'not started' });
    await sut.close();
  });

  it('should build the fake backend for INFERENCE_BACKEND=fake, limited to BATCH_SIZE', async () => {
    const sut = createBackend(loadConfig({ INFERENCE_BACKEND: 'fake', BATCH_SIZE: '2' }));
    expect(sut).toBeInstanceOf(FakeBackend);
    await sut.start();
    const n = 3;
    await expect(sut.infer({ n, mel: new Float32Array(n * 1280), face: new Uint8Array(n * 27648) })).rejects.toMatchObject({
      code: 'INFERENCE_FAILED',
    });
  });

  it('should build the triton backend for INFERENCE_BACKEND=triton', async () => {
    const sut = createBackend(loadConfig({ INFERENCE_BACKEND: 'triton', TRITON_URL: '127.0.0.1:1' }));
    expect(sut.kind).toBe('triton');
    expect(sut.readiness().ready).toBe(false);
    await sut.close();
  });
});
