import request from 'supertest';
import { startApp, tempDataDir, TestApp } from './e2e-helpers';

// Issue 10, item 4: the rate limit runs before authentication (a wrong or missing key is limited
// per client IP too), and TRUST_PROXY tells clients behind a proxy apart. Only loopback traffic:
// X-Forwarded-For values are just header text here.
describe('rate limit before authentication', () => {
  let t: TestApp;
  afterEach(() => t?.close());

  it('should answer 429 RATE_LIMITED, not 401 for ever, to a client that keeps sending bad keys', async () => {
    t = await startApp({ DATA_DIR: tempDataDir('throttle'), INFERENCE_BACKEND: 'fake', API_KEYS: 'good', RATE_LIMIT_PER_MINUTE: '3' });
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await request(t.server).get('/v1/jobs/x').set('Authorization', `Bearer wrong-${i}`)).status);
    expect(codes.slice(0, 3)).toEqual([401, 401, 401]);
    expect(codes.slice(3)).toEqual([429, 429]);
    const none = await request(t.server).get('/v1/jobs/x');
    expect(none.status).toBe(429);
    expect(none.body.error.code).toBe('RATE_LIMITED');
    // a valid key has its own bucket
    expect((await request(t.server).get('/v1/jobs/x').set('Authorization', 'Bearer good')).status).toBe(404);
  });

  it('should give each forwarded client its own bucket with TRUST_PROXY, and ignore X-Forwarded-For without it', async () => {
    t = await startApp({
      DATA_DIR: tempDataDir('proxy'),
      INFERENCE_BACKEND: 'fake',
      API_KEYS: 'good',
      RATE_LIMIT_PER_MINUTE: '2',
      TRUST_PROXY: '1',
    });
    const from = async (ip: string) => (await request(t.server).get('/v1/jobs/x').set('X-Forwarded-For', ip)).status;
    expect([await from('127.0.0.2'), await from('127.0.0.2'), await from('127.0.0.2')]).toEqual([401, 401, 429]);
    expect(await from('127.0.0.3')).toBe(401);
    await t.close();

    t = await startApp({ DATA_DIR: tempDataDir('noproxy'), INFERENCE_BACKEND: 'fake', API_KEYS: 'good', RATE_LIMIT_PER_MINUTE: '2' });
    expect([await from('127.0.0.2'), await from('127.0.0.3'), await from('127.0.0.4')]).toEqual([401, 401, 429]);
  });
});
