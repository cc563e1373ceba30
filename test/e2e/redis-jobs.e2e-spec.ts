import * as fs from 'fs';
import { Redis } from 'ioredis';
import * as path from 'path';
import request from 'supertest';
import { Webhook } from 'standardwebhooks';
import { currentLogContext } from '../../gateway/src/common/log-context';
import type { Renderer } from '../../gateway/src/render/render.types';
import { RedisConnections } from '../../gateway/src/redis/redis-connections';
import { RedisWebhookSchedule } from '../../gateway/src/webhooks/webhook-schedule';
import { LocalServer, startLocalServer } from '../helpers/local-http';
import { makeSpeech } from '../helpers/media';
import { freePort, RedisServer } from '../helpers/scale-cluster';
import { ASTRONAUT, getJob, pollJob, startApp, tempDataDir, TestApp, untilGone } from './e2e-helpers';

// QUEUE=redis in one process (ROLE=all) against a real redis-server: what the embedded queue does
// and the Redis driver must do the same way (deadline, log context, queue position, webhooks).
// The multi-process behaviour (replicas, SIGKILL, Redis restart) is in scale-redis.e2e-spec.ts.
const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('QUEUE=redis in one process', () => {
  const work = tempDataDir('redis-jobs');
  const dataDir = path.join(work, 'data');
  const speech = path.join(work, 'speech.wav');
  let redis: RedisServer;
  let receiver: LocalServer;
  let t: TestApp;
  let env: Record<string, string>;
  /** renders to hold until aborted (the next N to start) */
  let holdNext = 0;
  /** the job id the log context carried in each render */
  const renderContexts: (string | undefined)[] = [];
  const flakyHits = new Map<string, number>();

  const renderer = (real: Renderer): Renderer => ({
    render: async (req, hooks) => {
      renderContexts.push(currentLogContext().jobId);
      if (holdNext > 0) {
        holdNext--;
        await new Promise<void>((resolve) => hooks?.signal?.addEventListener('abort', () => resolve(), { once: true }));
      }
      return real.render(req, hooks);
    },
  });

  beforeAll(async () => {
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    await makeSpeech(speech, 1, 'Hi.');
    redis = new RedisServer(await freePort(), path.join(work, 'redis'));
    await redis.start();
    receiver = await startLocalServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      const key = u.searchParams.get('k') ?? '';
      const n = (flakyHits.get(u.pathname + key) ?? 0) + 1;
      flakyHits.set(u.pathname + key, n);
      if (u.pathname === '/flaky') return void res.writeHead(n <= 2 ? 500 : 204).end();
      if (u.pathname === '/hang-once' && n === 1) return; // the first attempt never gets an answer
      res.writeHead(204).end();
    });
    env = {
      QUEUE: 'redis',
      REDIS_URL: redis.url,
      DATA_DIR: dataDir,
      INFERENCE_BACKEND: 'fake',
      JOB_CONCURRENCY: '1',
      // long enough for a held job to be cancelled, and for the next job to render, on a busy 2-core machine; short enough to wait for
      JOB_TIMEOUT_SECONDS: '12',
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_URL: receiver.url('/default'),
      OUTBOUND_ALLOW_HOSTS: receiver.hostPort,
      WEBHOOK_MAX_ATTEMPTS: '3',
      WEBHOOK_RETRY_BASE_MS: '50',
      WEBHOOK_RETRY_MAX_MS: '200',
      WEBHOOK_TIMEOUT_MS: '20000',
    };
    t = await startApp(env, { wrapRenderer: renderer });
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    await receiver?.close();
    await redis?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }, 60_000);

  const submit = (fields: Record<string, string> = {}) => {
    const req = request(t.server).post('/v1/jobs').attach('face', ASTRONAUT).attach('audio', speech);
    for (const [k, v] of Object.entries(fields)) void req.field(k, v);
    return req;
  };
  const deliveriesOf = (id: string) => receiver.requests.filter((r) => r.headers['webhook-id'] === `msg_${id}`);
  async function settledWebhook(server: any, id: string): Promise<any> {
    for (;;) {
      const job = await getJob(server, id);
      if (['succeeded', 'failed', 'cancelled'].includes(job.status) && job.webhook && job.webhook.state !== 'pending') return job;
      await sleep(50);
    }
  }

  it('should stop a render past JOB_TIMEOUT_SECONDS with DEADLINE_EXCEEDED, remove its files, free the slot, and log with the job id', async () => {
    renderContexts.length = 0;
    holdNext = 1;
    const late = (await submit().expect(202)).body.id as string;
    const next = (await submit().expect(202)).body.id as string;
    const failed = await pollJob(t.server, late);
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'DEADLINE_EXCEEDED', message: expect.stringMatching(/12 s/) } });
    expect(await untilGone(path.join(dataDir, 'jobs', late), 2000)).toBe(true);
    // JOB_CONCURRENCY=1: the next job only runs once the stopped one gave its slot back
    expect((await pollJob(t.server, next)).status).toBe('succeeded');
    expect(renderContexts).toEqual([late, next]);
    // the failure is reported like any other: the default webhook, signed, once
    const hook = await settledWebhook(t.server, late);
    expect(hook.webhook).toMatchObject({ state: 'delivered', attempts: [{ attempt: 1, status: 204 }] });
    const [got] = deliveriesOf(late);
    const payload = new Webhook(SECRET).verify(got.body, got.headers as Record<string, string>) as any;
    expect(payload).toMatchObject({ type: 'job.failed', data: { id: late, error: { code: 'DEADLINE_EXCEEDED' } } });
    expect(deliveriesOf(late)).toHaveLength(1);
  }, 60_000);

  it('should report each waiting job’s place in the queue, next first', async () => {
    holdNext = 1;
    const running = (await submit({ webhookUrl: receiver.url('/running') }).expect(202)).body.id as string;
    await pollJob(t.server, running, (j) => j.status === 'running');
    const waiting: string[] = [];
    for (let i = 0; i < 3; i++) waiting.push((await submit({ webhookUrl: receiver.url('/waiting') }).expect(202)).body.id as string);
    const positions = await Promise.all(waiting.map(async (id) => (await getJob(t.server, id)).queuePosition));
    expect(positions).toEqual([0, 1, 2]);
    // a waiting job cancelled on the API side, and the running one stopped in the worker: both send job.cancelled
    await request(t.server).delete(`/v1/jobs/${waiting[1]}`).expect(200);
    await request(t.server).delete(`/v1/jobs/${running}`).expect(200);
    for (const id of [waiting[1], running]) {
      const job = await settledWebhook(t.server, id);
      expect(job).toMatchObject({ status: 'cancelled', webhook: { state: 'delivered' } });
      const [got] = deliveriesOf(id);
      expect((new Webhook(SECRET).verify(got.body, got.headers as Record<string, string>) as any).type).toBe('job.cancelled');
    }
    for (const id of [waiting[0], waiting[2]]) expect((await pollJob(t.server, id)).status).toBe('succeeded');
  }, 60_000);

  it('should retry a webhook after two 500s with one webhook-id and one body, and show every attempt', async () => {
    const id = (await submit({ webhookUrl: receiver.url('/flaky?k=a') }).expect(202)).body.id as string;
    const job = await settledWebhook(t.server, id);
    expect(job.status).toBe('succeeded');
    expect(job.webhook.attempts.map((a: any) => [a.attempt, a.status])).toEqual([
      [1, 500],
      [2, 500],
      [3, 204],
    ]);
    const got = deliveriesOf(id);
    expect(got).toHaveLength(3);
    expect(new Set(got.map((r) => r.body)).size).toBe(1);
    const payload = new Webhook(SECRET).verify(got[2].body, got[2].headers as Record<string, string>) as any;
    expect(payload).toMatchObject({ type: 'job.succeeded', data: { id, status: 'succeeded', result: job.result } });
  }, 60_000);

  it('should let exactly one of two replicas claim a due delivery', async () => {
    const conns = [new RedisConnections(redis.url, 'claim-test'), new RedisConnections(redis.url, 'claim-test')];
    const calls: string[][] = [[], []];
    const schedules = conns.map((c) => new RedisWebhookSchedule(c, 60_000, 50));
    try {
      await conns[0].client.zadd('claim-test:webhook-due', Date.now() - 1, 'job-x');
      schedules.forEach((s, i) => s.start(async (id) => void calls[i].push(id)));
      await sleep(500);
      expect([...calls[0], ...calls[1]]).toEqual(['job-x']);
      // the winner holds it for the lease: the score moved past now
      expect(Number(await conns[1].client.zscore('claim-test:webhook-due', 'job-x'))).toBeGreaterThan(Date.now() + 50_000);
    } finally {
      await Promise.all(schedules.map((s) => s.close([])));
      await Promise.all(conns.map((c) => c.close()));
    }
  });

  it('should let another replica take over a delivery whose claimer died, once its lease lapsed', async () => {
    const conns = [new RedisConnections(redis.url, 'lease-test'), new RedisConnections(redis.url, 'lease-test')];
    const dead = new RedisWebhookSchedule(conns[0], 300, 50);
    const alive = new RedisWebhookSchedule(conns[1], 60_000, 50);
    const took: number[] = [];
    try {
      await conns[0].client.zadd('lease-test:webhook-due', Date.now() - 1, 'job-y');
      dead.start(() => new Promise(() => undefined)); // claims it, then never finishes (its process died)
      let leaseEnd = 0;
      while (leaseEnd <= Date.now()) leaseEnd = Number(await conns[1].client.zscore('lease-test:webhook-due', 'job-y'));
      alive.start(async () => void took.push(Date.now()));
      while (!took.length) await sleep(20);
      expect(took[0]).toBeGreaterThanOrEqual(leaseEnd); // not before the dead claim's lease ran out
      await sleep(300);
      expect(took).toHaveLength(1);
    } finally {
      await Promise.all([dead, alive].map((s) => s.close([])));
      await Promise.all(conns.map((c) => c.close()));
    }
  });

  it('should hand a delivery cut short by a shutdown to the next replica, which sends the same message', async () => {
    const id = (await submit({ webhookUrl: receiver.url('/hang-once?k=b') }).expect(202)).body.id as string;
    while (deliveriesOf(id).length < 1) await sleep(50);
    await t.close(); // the attempt in flight is aborted and handed back (not counted)
    t = await startApp(env, { wrapRenderer: renderer });
    const job = await settledWebhook(t.server, id);
    expect(job.webhook).toMatchObject({ state: 'delivered', attempts: [{ attempt: 1, status: 204 }] });
    const got = deliveriesOf(id);
    expect(got).toHaveLength(2); // at-least-once: the receiver dedupes on webhook-id
    expect(got[0].body).toBe(got[1].body);
    const probe = new Redis(redis.url, { maxRetriesPerRequest: null });
    try {
      expect(await probe.zscore('lipsync:webhook-due', id)).toBeNull();
    } finally {
      probe.disconnect();
    }
  }, 90_000);
});
