import * as fs from 'fs';
import { Redis } from 'ioredis';
import * as path from 'path';
import { Webhook } from 'standardwebhooks';
import { LocalServer, startLocalServer } from '../helpers/local-http';
import { ffprobe, makeSpeech } from '../helpers/media';
import { freePort, GatewayProcess, RedisServer } from '../helpers/scale-cluster';
import { ASTRONAUT, tempDataDir, untilGone } from './e2e-helpers';

// QUEUE=redis end to end: a real redis-server, 2 API and 2 worker processes (node dist/main.js) on
// one DATA_DIR, the fake backend with a fixed per-batch latency. Lean on purpose (CI has 2 cores):
// a few short jobs; the throughput figures live in the bench.
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FINAL = ['succeeded', 'failed', 'cancelled'];
const SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;

describe('QUEUE=redis: 2 API + 2 worker processes', () => {
  const work = tempDataDir('scale');
  const dataDir = path.join(work, 'data');
  const speech = path.join(work, 'speech.wav');
  let redis: RedisServer;
  let probe: Redis;
  let apiA: GatewayProcess;
  let apiB: GatewayProcess;
  let workers: GatewayProcess[] = [];
  let receiver: LocalServer;
  const deliveriesOf = (id: string) => receiver.requests.filter((r) => r.headers['webhook-id'] === `msg_${id}`);

  const env = (role: string): Record<string, string> => ({
    QUEUE: 'redis',
    REDIS_URL: redis.url,
    ROLE: role,
    INFERENCE_BACKEND: 'fake',
    FAKE_BATCH_DELAY_MS: '250',
    BATCH_SIZE: '8',
    JOB_CONCURRENCY: '1',
    JOB_LOCK_MS: '3000',
    DATA_DIR: dataDir,
    // workers log every job's end, so the job-id log context can be checked in their logs
    LOG_LEVEL: role === 'worker' ? 'log' : 'warn',
    RATE_LIMIT_PER_MINUTE: '10000',
    OUTBOUND_ALLOW_HOSTS: receiver.hostPort,
    // as in docker-compose.yml the workers have no webhook secret (nor a route out): the API replicas
    // deliver what the workers finish (the finisher delivering itself: redis-jobs.e2e-spec.ts)
    ...(role === 'api' ? { WEBHOOK_SECRET: SECRET } : {}),
  });

  beforeAll(async () => {
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    await makeSpeech(speech, 2);
    receiver = await startLocalServer((_req, res) => res.writeHead(204).end());
    redis = new RedisServer(await freePort(), path.join(work, 'redis'));
    await redis.start();
    probe = new Redis(redis.url, { maxRetriesPerRequest: null });
    apiA = new GatewayProcess('api-a', await freePort(), env('api'), path.join(work, 'api-a.log'));
    apiB = new GatewayProcess('api-b', await freePort(), env('api'), path.join(work, 'api-b.log'));
    workers = [
      new GatewayProcess('worker-1', await freePort(), env('worker'), path.join(work, 'worker-1.log')),
      new GatewayProcess('worker-2', await freePort(), env('worker'), path.join(work, 'worker-2.log')),
    ];
    await Promise.all([apiA, apiB, ...workers].map((p) => p.start()));
  }, 240_000);

  afterAll(async () => {
    await Promise.all([apiA, apiB, ...workers].filter(Boolean).map((p) => p.kill('SIGKILL')));
    probe?.disconnect();
    await receiver?.close();
    await redis?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }, 60_000);

  async function submit(api: GatewayProcess, fields: Record<string, string> = {}): Promise<string> {
    const form = new FormData();
    form.append('face', new Blob([fs.readFileSync(ASTRONAUT)]), 'face.png');
    form.append('audio', new Blob([fs.readFileSync(speech)]), 'speech.wav');
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    const res = await fetch(`${api.url}/v1/jobs`, { method: 'POST', body: form });
    const body = (await res.json()) as { id: string };
    expect(res.status).toBe(202);
    return body.id;
  }

  async function job(api: GatewayProcess, id: string): Promise<any> {
    const res = await fetch(`${api.url}/v1/jobs/${id}`);
    expect(res.status).toBe(200);
    return res.json();
  }

  async function until(api: GatewayProcess, id: string, done: (j: any) => boolean, timeoutMs = 120_000): Promise<any> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const j = await job(api, id).catch(() => undefined);
      if (j && (done(j) || FINAL.includes(j.status))) return j;
      if (Date.now() > end) throw new Error(`job ${id} stuck: ${JSON.stringify(j)}`);
      await sleep(100);
    }
  }

  /** Polls until the job's webhook is no longer pending. */
  async function webhookSettled(api: GatewayProcess, id: string, timeoutMs = 60_000): Promise<any> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const j = await job(api, id).catch(() => undefined);
      if (j?.webhook && j.webhook.state !== 'pending') return j;
      if (Date.now() > end) throw new Error(`webhook of job ${id} still pending: ${JSON.stringify(j)}`);
      await sleep(100);
    }
  }

  async function resultBytes(api: GatewayProcess, id: string): Promise<Buffer> {
    const res = await fetch(`${api.url}/v1/jobs/${id}/result`);
    expect(res.status).toBe(200);
    return Buffer.from(await res.arrayBuffer());
  }

  async function expectGoodMp4(api: GatewayProcess, id: string): Promise<void> {
    const file = path.join(work, `${id}.mp4`);
    fs.writeFileSync(file, await resultBytes(api, id));
    const info = await ffprobe(file);
    const video = info.streams.find((s) => s.codec_type === 'video') as { codec_name?: string; nb_read_frames?: string } | undefined;
    expect(video?.codec_name).toBe('h264');
    // every frame the job reports (2 s at 25 fps, the last window covering the audio's end)
    const { result } = await job(api, id);
    expect(result.frames).toBeGreaterThanOrEqual(50);
    expect(Number(video?.nb_read_frames)).toBe(result.frames);
    expect(info.streams.some((s) => s.codec_type === 'audio')).toBe(true);
  }

  it('should serve only health routes on a worker and refuse nothing on the APIs', async () => {
    expect((await fetch(`${workers[0].url}/readyz`)).status).toBe(200);
    expect((await fetch(`${workers[0].url}/metrics`)).status).toBe(200);
    expect((await fetch(`${workers[0].url}/v1/jobs/x`)).status).toBe(404);
    expect((await fetch(`${workers[0].url}/docs-json`)).status).toBe(404);
  });

  it('should finish jobs submitted through both APIs, each readable through the other, and share an avatar', async () => {
    const form = new FormData();
    form.append('file', new Blob([fs.readFileSync(ASTRONAUT)]), 'face.png');
    const avatar = (await (await fetch(`${apiA.url}/v1/avatars`, { method: 'POST', body: form })).json()) as { avatarId: string };
    expect((await fetch(`${apiB.url}/v1/avatars/${avatar.avatarId}`)).status).toBe(200);
    const viaAvatar = new FormData();
    viaAvatar.append('avatarId', avatar.avatarId);
    viaAvatar.append('audio', new Blob([fs.readFileSync(speech)]), 'speech.wav');
    const r = await fetch(`${apiB.url}/v1/jobs`, { method: 'POST', body: viaAvatar });
    expect(r.status).toBe(202);
    const ids = [
      await submit(apiA, { webhookUrl: receiver.url('/hook') }),
      await submit(apiB),
      await submit(apiA),
      ((await r.json()) as { id: string }).id,
    ];
    const done = await Promise.all(ids.map((id, i) => until(i % 2 ? apiA : apiB, id, () => false)));
    expect(done.map((j) => j.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    await expectGoodMp4(apiB, ids[0]);
    // an API replica delivers the webhook the worker left due: signed, once
    const hooked = await webhookSettled(apiB, ids[0]);
    expect(hooked.webhook).toMatchObject({ state: 'delivered', attempts: [{ attempt: 1, status: 204 }] });
    expect(deliveriesOf(ids[0])).toHaveLength(1);
    const [got] = deliveriesOf(ids[0]);
    const payload = new Webhook(SECRET).verify(got.body, got.headers as Record<string, string>) as any;
    expect(payload).toMatchObject({ type: 'job.succeeded', data: { id: ids[0], status: 'succeeded', result: hooked.result } });
    // every worker line about a job carries its id (pino's job-id log context)
    const lines = workers
      .flatMap((w) => fs.readFileSync(w.logFile, 'utf8').split('\n'))
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg?: string; jobId?: string });
    for (const id of ids) {
      const about = lines.filter((l) => l.msg?.includes(`job ${id}`));
      expect(about.length).toBeGreaterThan(0);
      for (const l of about) expect({ msg: l.msg, jobId: l.jobId }).toEqual({ msg: l.msg, jobId: id });
    }
  }, 300_000);

  it('should give the same bytes on a stream opened on the other API as the result', async () => {
    const id = await submit(apiA, { stream: 'true' });
    const streamed = Buffer.from(await (await fetch(`${apiB.url}/v1/jobs/${id}/stream`)).arrayBuffer());
    expect((await until(apiA, id, () => false)).status).toBe('succeeded');
    const result = await resultBytes(apiA, id);
    expect(streamed.length).toBeGreaterThan(1000);
    expect(streamed.equals(result)).toBe(true);
  }, 180_000);

  it('should end a running job within 1 s when it is cancelled through the other API', async () => {
    const id = await submit(apiA);
    await until(apiB, id, (j) => j.status === 'running' && j.framesDone > 0);
    const t0 = Date.now();
    const res = await fetch(`${apiB.url}/v1/jobs/${id}`, { method: 'DELETE' });
    const after = await until(apiA, id, () => false, 10_000);
    // within 1 s of the DELETE: the final state on the other replica, and the job's folder removed
    const gone = await untilGone(path.join(dataDir, 'jobs', id), 5_000);
    const ms = Date.now() - t0;
    expect(res.status).toBe(200);
    expect(after).toMatchObject({ status: 'cancelled', error: { code: 'CANCELLED' } });
    expect(gone).toBe(true);
    expect(ms).toBeLessThanOrEqual(1000);
  }, 180_000);

  it('should lose no job when redis-server restarts mid-run', async () => {
    const ids = [await submit(apiA), await submit(apiB), await submit(apiA)];
    await until(apiA, ids[0], (j) => j.status === 'running');
    await redis.stop();
    await sleep(1000);
    await redis.start();
    const done = await Promise.all(ids.map((id) => until(apiB, id, () => false, 180_000)));
    expect(done.map((j) => j.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
  }, 300_000);

  it('should finish the job of a SIGKILLed worker on the other worker with a correct MP4, and send its webhook once', async () => {
    const id = await submit(apiB, { webhookUrl: receiver.url('/killed') });
    await until(apiA, id, (j) => j.status === 'running' && j.framesDone > 0);
    // which worker holds it: the run's file name carries the worker's pid
    const record = JSON.parse((await probe.get(`lipsync:job:${id}`))!) as { renderPath: string };
    const holder = workers.find((w) => record.renderPath.includes(`-${w.pid}.mp4`))!;
    expect(holder).toBeDefined();
    await holder.kill('SIGKILL');
    const done = await until(apiB, id, () => false, 180_000);
    expect(done.status).toBe('succeeded');
    await expectGoodMp4(apiA, id);
    const hooked = await webhookSettled(apiA, id);
    expect(hooked.webhook.state).toBe('delivered');
    expect(deliveriesOf(id)).toHaveLength(1);
    expect(JSON.parse(deliveriesOf(id)[0].body)).toMatchObject({ type: 'job.succeeded', data: { id } });
  }, 300_000);
});
