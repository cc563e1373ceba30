import { HealthController } from '../../../gateway/src/health/health.controller';
import type { InferenceBackend } from '../../../gateway/src/inference/inference-backend';
import type { MetricsService } from '../../../gateway/src/health/metrics.service';
import type { JobsService } from '../../../gateway/src/jobs/jobs.service';

describe('HealthController /readyz (public, unauthenticated)', () => {
  it('should say why it is not ready without showing MODEL_PATH or other server paths', () => {
    const backend = {
      kind: 'onnx',
      readiness: () => ({ ready: false, reason: 'cannot load /srv/secret/models/wav2lip.onnx: ENOENT' }),
    } as unknown as InferenceBackend;
    const jobs = { isClosing: false, queueDepth: 0 } as unknown as JobsService;
    const model = { name: 'wav2lip-demo-seed0', origin: 'demo' as const, licence: 'demo model: seeded random weights' };
    const sut = new HealthController(backend, {} as MetricsService, jobs, model);
    const res = { status: jest.fn() };
    const body = sut.readyz(res as never);
    expect(res.status).toHaveBeenCalledWith(503);
    expect(body.reason).toBe('cannot load <path>: ENOENT');
    // the model's name and licence are shown whatever the readiness
    expect(body.model).toEqual(model);
  });

  it('should say which precision the ready backend serves, over the stamp claim', () => {
    const backend = { kind: 'onnx', readiness: () => ({ ready: true, precision: 'int8' }) } as unknown as InferenceBackend;
    const jobs = { isClosing: false, queueDepth: 2 } as unknown as JobsService;
    const model = { name: 'wav2lip-demo-seed0', origin: 'demo' as const, licence: 'demo', precision: 'fp32' };
    const res = { status: jest.fn() };
    const body = new HealthController(backend, {} as MetricsService, jobs, model).readyz(res as never);
    expect(body).toEqual({ ready: true, backend: 'onnx', queueDepth: 2, model: { ...model, precision: 'int8' } });
    expect(model.precision).toBe('fp32'); // the injected provenance is not changed
    expect(res.status).toHaveBeenCalledWith(200);
  });
});
