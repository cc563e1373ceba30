import { ConfigError, loadConfig } from '../../../gateway/src/config/config';
import { REMOTE_INFER_DEPTH } from '../../../gateway/src/inference/inference-backend';
import { MemoryKeyValueStore } from '../../../gateway/src/redis/kv-store';

describe('queue configuration', () => {
  it('should default to the embedded queue, role all, and one job at a time on onnx', () => {
    const c = loadConfig({});
    expect(c.queue).toMatchObject({ driver: 'embedded', role: 'all', maxAttempts: 3, lockMs: 30_000 });
    expect(c.jobs.concurrency).toBe(1);
  });

  it('should run several jobs per worker by default on triton, so its dynamic batcher can merge their requests', () => {
    expect(loadConfig({ INFERENCE_BACKEND: 'triton' }).jobs.concurrency).toBeGreaterThanOrEqual(8);
    expect(loadConfig({ INFERENCE_BACKEND: 'triton', JOB_CONCURRENCY: '2' }).jobs.concurrency).toBe(2);
  });

  it('should by default let every request of every job and live session reach Triton (no in-flight cap below them)', () => {
    const c = loadConfig({ INFERENCE_BACKEND: 'triton' });
    // each job and each live session keeps REMOTE_INFER_DEPTH requests in flight
    expect(c.triton.maxInFlight).toBe(REMOTE_INFER_DEPTH * (c.jobs.concurrency + c.sessions!.maxSessions));
    expect(c.triton.maxInFlight).toBeGreaterThanOrEqual(2 * 8);
    expect(loadConfig({ INFERENCE_BACKEND: 'triton', JOB_CONCURRENCY: '3', MAX_SESSIONS: '0' }).triton.maxInFlight).toBe(6);
    expect(loadConfig({ INFERENCE_BACKEND: 'triton', TRITON_MAX_IN_FLIGHT: '4' }).triton.maxInFlight).toBe(4);
    expect(() => loadConfig({ TRITON_MAX_IN_FLIGHT: '0' })).toThrow(ConfigError);
  });

  it('should refuse ROLE=api or ROLE=worker without QUEUE=redis', () => {
    expect(() => loadConfig({ ROLE: 'worker' })).toThrow(ConfigError);
    expect(() => loadConfig({ ROLE: 'api' })).toThrow(/QUEUE=redis/);
  });

  it('should read the Redis settings when QUEUE=redis', () => {
    const c = loadConfig({
      QUEUE: 'redis',
      REDIS_URL: 'redis://127.0.0.1:7000',
      ROLE: 'worker',
      JOB_MAX_ATTEMPTS: '2',
      JOB_LOCK_MS: '5000',
    });
    expect(c.queue).toEqual({
      driver: 'redis',
      role: 'worker',
      redisUrl: 'redis://127.0.0.1:7000',
      prefix: 'lipsync',
      maxAttempts: 2,
      lockMs: 5000,
    });
  });

  it('should accept webhooks with QUEUE=redis (every replica delivers what it finishes)', () => {
    const secret = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
    const c = loadConfig({ QUEUE: 'redis', ROLE: 'worker', WEBHOOK_SECRET: secret, WEBHOOK_URL: 'https://hooks.example.com/x' });
    expect(c.webhooks).toMatchObject({ secret, defaultUrl: 'https://hooks.example.com/x' });
  });

  it('should refuse a REDIS_URL that is not a redis:// URL and an unknown role', () => {
    expect(() => loadConfig({ QUEUE: 'redis', REDIS_URL: 'http://x' })).toThrow(/REDIS_URL/);
    expect(() => loadConfig({ QUEUE: 'redis', ROLE: 'both' })).toThrow(/ROLE/);
  });
});

describe(MemoryKeyValueStore.name, () => {
  it('should let only the first setIfAbsent win and forget keys after their TTL', async () => {
    let now = 1_000_000;
    const sut = new MemoryKeyValueStore(() => now);
    expect(await sut.setIfAbsent('idem:a', 'job-1', 10)).toBe(true);
    expect(await sut.setIfAbsent('idem:a', 'job-2', 10)).toBe(false);
    expect(await sut.get('idem:a')).toBe('job-1');
    now += 10_001;
    expect(await sut.get('idem:a')).toBeUndefined();
    expect(await sut.setIfAbsent('idem:a', 'job-3', 10)).toBe(true);
    await sut.delete('idem:a');
    expect(await sut.get('idem:a')).toBeUndefined();
  });
});
