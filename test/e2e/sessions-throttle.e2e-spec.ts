import type { AddressInfo } from 'net';
import * as path from 'path';
import WebSocket from 'ws';
import { FakeBackend } from '../../gateway/src/inference/fake.backend';
import { freePort, RedisServer } from '../helpers/scale-cluster';
import { startApp, tempDataDir, TestApp } from './e2e-helpers';

const GHOST = '00000000-0000-0000-0000-000000000000';

type Outcome =
  { upgraded: true; code: number; event?: { code?: string } } | { upgraded: false; status: number; retryAfter?: string; body: any };

/** One upgrade to /v1/sessions/:id/ws: refused with an HTTP status before the upgrade, or upgraded and then closed with a code. */
function tryUpgrade(base: string, o: { key?: string; query?: string; forwardedFor?: string } = {}): Promise<Outcome> {
  const headers: Record<string, string> = {};
  if (o.key) headers.Authorization = `Bearer ${o.key}`;
  if (o.forwardedFor) headers['X-Forwarded-For'] = o.forwardedFor;
  const ws = new WebSocket(`${base}/v1/sessions/${GHOST}/ws${o.query ? `?key=${o.query}` : ''}`, { headers });
  return new Promise((resolve, reject) => {
    let event: { code?: string } | undefined;
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString('utf8')));
      res.on('end', () =>
        resolve({ upgraded: false, status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body: JSON.parse(text) }),
      );
    });
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- text frames arrive as a Buffer
    ws.on('message', (data) => (event ??= JSON.parse(data.toString()) as { code?: string }));
    ws.on('close', (code) => resolve({ upgraded: true, code, event }));
    ws.on('error', (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
}

// The REST rate limit runs before authentication; the same limit (per valid key, else per client
// address under TRUST_PROXY) holds for WebSocket upgrades, refused with HTTP 429 before the upgrade.
async function listening(env: Record<string, string>): Promise<{ app: TestApp; base: string }> {
  const app = await startApp(
    { DATA_DIR: tempDataDir('ws-throttle'), INFERENCE_BACKEND: 'fake', API_KEYS: 'good', ...env },
    { backend: new FakeBackend() },
  );
  await new Promise<void>((r) => app.server.listen(0, '127.0.0.1', () => r()));
  return { app, base: `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}

describe('WebSocket upgrades are rate-limited like REST', () => {
  let t: TestApp;
  afterEach(() => t?.close());

  const start = async (env: Record<string, string>) => {
    const { app, base } = await listening(env);
    t = app;
    return base;
  };

  it('should answer 429 RATE_LIMITED before the upgrade to a client that keeps trying bad keys', async () => {
    const base = await start({ RATE_LIMIT_PER_MINUTE: '3' });
    const bad = [];
    for (let i = 0; i < 3; i++) bad.push(await tryUpgrade(base, { key: `wrong-${i}` }));
    // within the limit: upgraded, then refused by authentication (an error event, close 4401)
    for (const r of bad) expect(r).toMatchObject({ upgraded: true, code: 4401, event: { code: 'UNAUTHORIZED' } });
    const limited = await tryUpgrade(base, { key: 'wrong-3' });
    expect(limited).toMatchObject({ upgraded: false, status: 429, body: { error: { code: 'RATE_LIMITED' } } });
    expect(Number((limited as { retryAfter?: string }).retryAfter)).toBeGreaterThan(0);
    // a browser's ?key= with a bad key and no key at all count for the same address
    expect(await tryUpgrade(base, { query: 'wrong-4' })).toMatchObject({ upgraded: false, status: 429 });
    expect(await tryUpgrade(base)).toMatchObject({ upgraded: false, status: 429 });
    // a valid key has its own bucket (headers or ?key=): past the limiter, the unknown session is 4404
    expect(await tryUpgrade(base, { key: 'good' })).toMatchObject({ upgraded: true, code: 4404, event: { code: 'NOT_FOUND' } });
    expect(await tryUpgrade(base, { query: 'good' })).toMatchObject({ upgraded: true, code: 4404 });
  });

  it('should give each forwarded client its own bucket with TRUST_PROXY, and ignore X-Forwarded-For without it', async () => {
    let base = await start({ RATE_LIMIT_PER_MINUTE: '2', TRUST_PROXY: '1' });
    const from = async (ip: string) => {
      const r = await tryUpgrade(base, { forwardedFor: ip });
      return r.upgraded ? r.code : r.status;
    };
    expect([await from('127.0.0.2'), await from('127.0.0.2'), await from('127.0.0.2')]).toEqual([4401, 4401, 429]);
    expect(await from('127.0.0.3')).toBe(4401);
    await t.close();

    base = await start({ RATE_LIMIT_PER_MINUTE: '2' });
    expect([await from('127.0.0.2'), await from('127.0.0.3'), await from('127.0.0.4')]).toEqual([4401, 4401, 429]);
  });
});

// QUEUE=redis: the limit is counted in Redis, so it holds across API replicas (two apps, one redis-server).
describe('WebSocket upgrade rate limit with QUEUE=redis', () => {
  const work = tempDataDir('ws-throttle-redis');
  let redis: RedisServer;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    redis = new RedisServer(await freePort(), path.join(work, 'redis'));
    await redis.start();
  });
  afterAll(async () => {
    for (const a of apps) await a.close();
    await redis?.stop();
  });

  it('should count one client address across two API replicas', async () => {
    const env = { QUEUE: 'redis', REDIS_URL: redis.url, RATE_LIMIT_PER_MINUTE: '2' };
    const a = await listening(env);
    apps.push(a.app);
    const b = await listening(env);
    apps.push(b.app);
    expect(await tryUpgrade(a.base, { key: 'wrong' })).toMatchObject({ upgraded: true, code: 4401 });
    expect(await tryUpgrade(b.base, { key: 'wrong' })).toMatchObject({ upgraded: true, code: 4401 });
    expect(await tryUpgrade(a.base, { key: 'wrong' })).toMatchObject({
      upgraded: false,
      status: 429,
      body: { error: { code: 'RATE_LIMITED' } },
    });
    expect(await tryUpgrade(b.base)).toMatchObject({ upgraded: false, status: 429 });
    expect(await tryUpgrade(b.base, { key: 'good' })).toMatchObject({ upgraded: true, code: 4404 });
  });
});
