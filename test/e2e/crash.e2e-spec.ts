import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import request from 'supertest';
import { makeSpeech } from '../helpers/media';
import { ASTRONAUT, REPO_ROOT, tempDataDir } from './e2e-helpers';

// Issue 10, item 7: the server process is SIGKILLed with jobs queued and running, then started
// again on the same DATA_DIR: every accepted job (every 202) ends `succeeded`. The real server
// (dist/main.js, as `npm start` runs it) on the fake backend; face detection and ffmpeg are real.
const JOBS = Number(process.env.CRASH_TEST_JOBS ?? 12);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function startServer(env: Record<string, string>, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'dist', 'main.js')], {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`server exited early: ${stderr}`);
    const ok = await request(url)
      .get('/healthz')
      .then(
        (r) => r.status === 200,
        () => false,
      );
    if (ok) return child;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`server did not start: ${stderr}`);
}

function stop(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

describe('SIGKILL with jobs in flight', () => {
  let server: ChildProcess | undefined;
  afterAll(() => stop(server, 'SIGKILL'));

  it(`should end every accepted job succeeded after a SIGKILL and a restart (${JOBS} jobs)`, async () => {
    expect(fs.existsSync(path.join(REPO_ROOT, 'dist', 'main.js'))).toBe(true); // scripts/test.sh builds first
    const dir = tempDataDir('crash');
    const speech = path.join(dir, 'speech.wav');
    await makeSpeech(speech, 1, 'Hello.');
    const env = {
      DATA_DIR: path.join(dir, 'data'),
      INFERENCE_BACKEND: 'fake',
      JOB_CONCURRENCY: '2',
      QUEUE_MAX: String(JOBS + 10),
      RATE_LIMIT_PER_MINUTE: '100000',
      LOG_LEVEL: 'warn',
    };
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    server = await startServer(env, port);

    const ids: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      const res = await request(url).post('/v1/jobs').attach('face', ASTRONAUT).attach('audio', speech);
      expect(res.status).toBe(202);
      ids.push(res.body.id);
    }
    // kill while at least one job runs and others wait
    const statuses = async () => Promise.all(ids.map(async (id) => (await request(url).get(`/v1/jobs/${id}`)).body.status as string));
    let now = await statuses();
    while (!now.includes('running')) now = await statuses();
    expect(now).toContain('queued');
    await stop(server, 'SIGKILL');

    server = await startServer(env, port);
    const final: Record<string, number> = {};
    for (const id of ids) {
      let job;
      for (;;) {
        const res = await request(url).get(`/v1/jobs/${id}`);
        if (res.status !== 200) {
          job = { status: `lost (${res.status})` };
          break;
        }
        job = res.body;
        if (['succeeded', 'failed', 'cancelled'].includes(job.status)) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      final[job.status] = (final[job.status] ?? 0) + 1;
    }
    // the figure for the notes: N jobs, 0 lost, 0 failed
    process.stdout.write(`crash test: ${JOBS} jobs accepted, after SIGKILL + restart: ${JSON.stringify(final)}\n`);
    expect(final).toEqual({ succeeded: JOBS });
    await stop(server, 'SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
