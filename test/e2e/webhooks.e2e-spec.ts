import * as fs from 'fs';
import * as path from 'path';
import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import { GatewayError } from '../../gateway/src/common/errors';
import type { Renderer } from '../../gateway/src/render/render.types';
import { LocalServer, loopbackResolver, startLocalServer } from '../helpers/local-http';
import { makeSpeech } from '../helpers/media';
import { ASTRONAUT, getJob, startApp, tempDataDir, TestApp } from './e2e-helpers';

const SECRET = `whsec_${Buffer.alloc(32, 42).toString('base64')}`;

/** Polls GET /v1/jobs/:id until the job is final and its webhook is no longer pending. */
async function settledWebhook(server: any, id: string): Promise<any> {
  for (;;) {
    const job = await getJob(server, id);
    if (['succeeded', 'failed', 'cancelled'].includes(job.status) && job.webhook && job.webhook.state !== 'pending') return job;
    await new Promise((r) => setTimeout(r, 50));
  }
}

// A receiver on 127.0.0.1 (allowlisted by host:port) verifies every delivery with the Standard
// Webhooks library; names resolve through a test resolver that only knows loopback addresses.
describe('webhooks (fake backend)', () => {
  let t: TestApp;
  let receiver: LocalServer;
  let dataDir: string;
  let speech: string;
  let deadPort: number;
  let failRenders = false;
  let holding = false;
  const flakyHits = new Map<string, number>();

  const renderer = (real: Renderer): Renderer => ({
    render: async (req, hooks) => {
      while (holding && !hooks?.signal?.aborted) await new Promise((r) => setTimeout(r, 20));
      if (failRenders) throw new GatewayError('INFERENCE_FAILED', 'injected failure');
      return real.render(req, hooks);
    },
  });

  beforeAll(async () => {
    dataDir = tempDataDir('webhooks');
    speech = path.join(dataDir, 'speech.wav');
    await makeSpeech(speech, 1, 'Hi.');
    receiver = await startLocalServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      if (u.pathname === '/flaky') {
        const key = u.searchParams.get('k') ?? '';
        const n = (flakyHits.get(key) ?? 0) + 1;
        flakyHits.set(key, n);
        return void res.writeHead(n <= 2 ? 500 : 204).end();
      }
      if (u.pathname === '/hang') return; // never answers
      if (u.pathname === '/gone') return void res.writeHead(410).end();
      res.writeHead(204).end();
    });
    // a port with nothing listening: connections are refused (loopback)
    const tmp = await startLocalServer(() => undefined);
    deadPort = tmp.port;
    await tmp.close();
    t = await startApp(
      {
        DATA_DIR: dataDir,
        INFERENCE_BACKEND: 'fake',
        WEBHOOK_SECRET: SECRET,
        WEBHOOK_URL: receiver.url('/default'),
        OUTBOUND_ALLOW_HOSTS: `${receiver.hostPort},127.0.0.1:${deadPort}`,
        WEBHOOK_MAX_ATTEMPTS: '3',
        WEBHOOK_RETRY_BASE_MS: '50',
        WEBHOOK_RETRY_MAX_MS: '200',
        WEBHOOK_TIMEOUT_MS: '800',
      },
      { wrapRenderer: renderer, outboundLookup: loopbackResolver({ 'hooks.example.test': '127.0.0.1' }).lookup },
    );
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  const submit = (webhookUrl?: string) => {
    const req = request(t.server).post('/v1/jobs').attach('face', ASTRONAUT).attach('audio', speech);
    return webhookUrl === undefined ? req : req.field('webhookUrl', webhookUrl);
  };
  const deliveriesTo = (p: string) => receiver.requests.filter((r) => r.url.startsWith(p));

  it('should sign each delivery, retry after two 500s, and show every attempt on the job', async () => {
    const res = await submit(receiver.url('/flaky?k=one&token=s3cret'));
    expect(res.status).toBe(202);
    expect(res.body.webhook).toEqual({ url: `${receiver.url('/flaky')}?…`, state: 'pending', attempts: [] }); // query hidden
    const job = await settledWebhook(t.server, res.body.id);
    expect(job.status).toBe('succeeded');
    expect(job.webhook.state).toBe('delivered');
    expect(job.webhook.attempts.map((a: any) => [a.attempt, a.status])).toEqual([
      [1, 500],
      [2, 500],
      [3, 204],
    ]);
    const got = deliveriesTo('/flaky?k=one');
    expect(got).toHaveLength(3);
    const wh = new Webhook(SECRET);
    const payloads = got.map((r) => wh.verify(r.body, r.headers as Record<string, string>) as any);
    expect(new Set(got.map((r) => r.headers['webhook-id']))).toEqual(new Set([`msg_${job.id}`])); // one message, three attempts
    expect(new Set(got.map((r) => r.body)).size).toBe(1); // the same body each time
    expect(payloads[0].type).toBe('job.succeeded');
    expect(payloads[0].data).toMatchObject({
      id: job.id,
      status: 'succeeded',
      result: job.result,
      links: job.links,
      finishedAt: job.finishedAt,
    });
    // a wrong secret does not verify
    expect(() =>
      new Webhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`).verify(got[0].body, got[0].headers as Record<string, string>),
    ).toThrow();
  });

  it('should send job.cancelled and job.failed, and use WEBHOOK_URL when a job names none', async () => {
    holding = true;
    const held = await submit(receiver.url('/ok-cancel'));
    await request(t.server).delete(`/v1/jobs/${held.body.id}`).expect(200);
    holding = false;
    const cancelled = await settledWebhook(t.server, held.body.id);
    expect(cancelled.webhook.state).toBe('delivered');
    const c = deliveriesTo('/ok-cancel')[0];
    expect((new Webhook(SECRET).verify(c.body, c.headers as Record<string, string>) as any).type).toBe('job.cancelled');

    failRenders = true;
    const bad = await submit(); // no webhookUrl: the default one
    const failed = await settledWebhook(t.server, bad.body.id);
    failRenders = false;
    expect(failed.status).toBe('failed');
    const f = deliveriesTo('/default').find((r) => r.body.includes(bad.body.id))!;
    const payload = new Webhook(SECRET).verify(f.body, f.headers as Record<string, string>) as any;
    expect(payload).toMatchObject({ type: 'job.failed', data: { id: bad.body.id, status: 'failed', error: { code: 'INFERENCE_FAILED' } } });
  });

  it('should retry refused connections and timeouts up to WEBHOOK_MAX_ATTEMPTS, not a 4xx, without holding up the job', async () => {
    const refused = await submit(`http://127.0.0.1:${deadPort}/hook`);
    const hang = await submit(receiver.url('/hang'));
    const gone = await submit(receiver.url('/gone'));
    const r = await settledWebhook(t.server, refused.body.id);
    expect(r.status).toBe('succeeded');
    expect(r.webhook.state).toBe('failed');
    expect(r.webhook.attempts.map((a: any) => a.error)).toEqual([
      'refused the connection',
      'refused the connection',
      'refused the connection',
    ]);
    const h = await settledWebhook(t.server, hang.body.id);
    expect(h.status).toBe('succeeded');
    expect(h.webhook.attempts.map((a: any) => a.error)).toEqual(['timed out', 'timed out', 'timed out']);
    const g = await settledWebhook(t.server, gone.body.id);
    expect(g.webhook).toMatchObject({ state: 'failed', attempts: [{ attempt: 1, status: 410 }] });
  });

  it('should refuse forbidden webhook URLs at submission, and a name that resolves to loopback at delivery', async () => {
    const literal = await submit(`http://127.0.0.1:${receiver.port + 1}/hook`);
    expect(literal.status).toBe(422);
    expect(literal.body.error.code).toBe('URL_FORBIDDEN');
    expect(literal.body.error.message).toMatch(/webhookUrl/);
    const meta = await submit('http://169.254.169.254/latest');
    expect(meta.body.error.code).toBe('URL_FORBIDDEN');
    expect((await submit('ftp://example.com/')).status).toBe(400);
    const before = receiver.requests.length;
    const named = await submit(`http://hooks.example.test:${receiver.port}/named`);
    expect(named.status).toBe(202);
    const job = await settledWebhook(t.server, named.body.id);
    expect(job.webhook.state).toBe('failed');
    expect(job.webhook.attempts).toHaveLength(1); // a forbidden address is not retried
    expect(job.webhook.attempts[0].error).toMatch(/loopback/);
    expect(receiver.requests.length).toBe(before);
  });

  it('should refuse webhookUrl on a server without WEBHOOK_SECRET', async () => {
    const plain = await startApp({
      DATA_DIR: tempDataDir('webhooks-off'),
      INFERENCE_BACKEND: 'fake',
      OUTBOUND_ALLOW_HOSTS: receiver.hostPort,
    });
    try {
      const res = await request(plain.server)
        .post('/v1/jobs')
        .attach('face', ASTRONAUT)
        .attach('audio', speech)
        .field('webhookUrl', receiver.url('/x'));
      expect(res.status).toBe(400);
      expect(res.body.error.message).toMatch(/WEBHOOK_SECRET/);
      expect(fs.readdirSync(path.join(plain.config.dataDir, 'jobs'))).toEqual([]);
    } finally {
      await plain.close();
    }
  });
});

describe('webhooks across a restart', () => {
  it('should resume a pending delivery at the next start, with the same webhook-id', async () => {
    const dataDir = tempDataDir('webhooks-restart');
    const speech = path.join(dataDir, 'speech.wav');
    await makeSpeech(speech, 1, 'Hi.');
    // nothing listens on this loopback port during the first run: attempt 1 is refused
    const probe = await startLocalServer(() => undefined);
    const port = probe.port;
    await probe.close();
    const env = {
      DATA_DIR: dataDir,
      INFERENCE_BACKEND: 'fake',
      WEBHOOK_SECRET: SECRET,
      OUTBOUND_ALLOW_HOSTS: `127.0.0.1:${port}`,
      WEBHOOK_MAX_ATTEMPTS: '20',
      WEBHOOK_RETRY_BASE_MS: '2000',
      WEBHOOK_RETRY_MAX_MS: '2000',
    };
    let id: string;
    const first = await startApp(env);
    try {
      const res = await request(first.server)
        .post('/v1/jobs')
        .attach('face', ASTRONAUT)
        .attach('audio', speech)
        .field('webhookUrl', `http://127.0.0.1:${port}/hook`);
      id = res.body.id;
      for (;;) {
        const job = await getJob(first.server, id);
        if (job.status === 'succeeded' && job.webhook.attempts.length >= 1) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await first.close();
    }
    let receiver: LocalServer | undefined;
    let second: TestApp | undefined;
    try {
      receiver = await startLocalServer((_req, res) => res.writeHead(204).end(), '127.0.0.1', port);
      second = await startApp(env);
      const job = await settledWebhook(second.server, id);
      expect(job.webhook.state).toBe('delivered');
      const attempts = job.webhook.attempts;
      expect(attempts[attempts.length - 1].status).toBe(204);
      expect(attempts.slice(0, -1).every((a: any) => a.error === 'refused the connection')).toBe(true);
      expect(receiver.requests).toHaveLength(1);
      const payload = new Webhook(SECRET).verify(receiver.requests[0].body, receiver.requests[0].headers as Record<string, string>) as any;
      expect(receiver.requests[0].headers['webhook-id']).toBe(`msg_${id}`);
      expect(payload).toMatchObject({ type: 'job.succeeded', data: { id, status: 'succeeded' } });
    } finally {
      await second?.close();
      await receiver?.close();
    }
  });
});
