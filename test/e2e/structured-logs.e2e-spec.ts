import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import sharp from 'sharp';
import { makeSpeech } from '../helpers/media';
import { ASTRONAUT, REPO_ROOT, tempDataDir } from './e2e-helpers';

// The server's logs from dist/main.js: pino JSON lines on stdout (nestjs-pino) with the job id on every
// line a job writes, LOG_FORMAT=pretty for a terminal. The model is the fake backend.
const MAIN = path.join(REPO_ROOT, 'dist', 'main.js');

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });

interface Server {
  url: string;
  stdout: () => string;
  stop(): Promise<void>;
}

async function startServer(dataDir: string, env: Record<string, string>): Promise<Server> {
  const port = await freePort();
  const proc: ChildProcess = spawn(process.execPath, [MAIN], {
    cwd: REPO_ROOT,
    env: { ...process.env, PORT: String(port), INFERENCE_BACKEND: 'fake', DATA_DIR: dataDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (err += d));
  const exited = new Promise((r) => proc.once('exit', r));
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(t);
    }
  };
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    if (
      await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { url, stdout: () => out, stop };
    if (proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`dist/main.js did not come up: ${err.slice(-2000)}`);
}

async function runJob(url: string, audio: Buffer, face: Buffer): Promise<{ id: string; status: string }> {
  const form = new FormData();
  form.append('face', new Blob([new Uint8Array(face)], { type: 'image/png' }), 'face.png');
  form.append('audio', new Blob([new Uint8Array(audio)], { type: 'audio/wav' }), 'speech.wav');
  const res = await fetch(`${url}/v1/jobs`, { method: 'POST', body: form });
  if (res.status !== 202) throw new Error(`POST /v1/jobs: ${res.status} ${await res.text()}`);
  const created = (await res.json()) as { id: string };
  for (;;) {
    const job = (await (await fetch(`${url}/v1/jobs/${created.id}`)).json()) as { id: string; status: string };
    if (['succeeded', 'failed', 'cancelled'].includes(job.status)) return job;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('structured logs (dist/main.js)', () => {
  let dataDir: string;
  let speech: Buffer;
  const servers: Server[] = [];
  beforeAll(async () => {
    expect(fs.existsSync(MAIN)).toBe(true); // npm run build first (the e2e layer runs on dist/)
    dataDir = tempDataDir('logs');
    await makeSpeech(path.join(dataDir, 'speech.wav'), 1);
    speech = fs.readFileSync(path.join(dataDir, 'speech.wav'));
  });
  afterAll(async () => {
    for (const s of servers) await s.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('should write one JSON object a line, with the job id on every line a job writes', async () => {
    const server = await startServer(path.join(dataDir, 'json'), { LOG_LEVEL: 'log' });
    servers.push(server);
    const ok = await runJob(server.url, speech, fs.readFileSync(ASTRONAUT));
    // a second job that fails (a grey picture has no face): its warning is a job line too
    const grey = await sharp({ create: { width: 128, height: 128, channels: 3, background: { r: 128, g: 128, b: 128 } } })
      .png()
      .toBuffer();
    const bad = await runJob(server.url, speech, grey);
    expect([ok.status, bad.status]).toEqual(['succeeded', 'failed']);
    await server.stop();

    const lines = server.stdout().trim().split('\n');
    const records = lines.map((l) => JSON.parse(l) as { level: number; msg: string; jobId?: string; req?: unknown; context?: string });
    expect(records.find((r) => r.context === 'Main')?.msg).toMatch(/^listening on :\d+/);
    for (const job of [ok, bad]) {
      const mentions = records.filter((r) => r.msg.includes(job.id) && !r.req);
      expect(mentions.length).toBeGreaterThan(0);
      // written inside the job: its id as a field, and not the id of the request that queued it
      for (const r of mentions) expect({ msg: r.msg, jobId: r.jobId }).toEqual({ msg: r.msg, jobId: job.id });
      for (const r of records.filter((x) => x.jobId === job.id)) expect(r.req).toBeUndefined();
    }
    expect(records.some((r) => r.jobId === bad.id && r.level === 40)).toBe(true); // the failure's warning
    // requests are logged by pino-http (not the health probes), without credentials
    expect(records.some((r) => (r.req as { url?: string } | undefined)?.url === '/v1/jobs' && r.msg === 'request completed')).toBe(true);
    expect(records.some((r) => (r.req as { url?: string } | undefined)?.url === '/healthz')).toBe(false);
  });

  it('should print human-readable lines with LOG_FORMAT=pretty', async () => {
    const server = await startServer(path.join(dataDir, 'pretty'), { LOG_LEVEL: 'log', LOG_FORMAT: 'pretty' });
    servers.push(server);
    await server.stop();
    const listening = server
      .stdout()
      .split('\n')
      .find((l) => l.includes('listening on :'));
    expect(listening).toMatch(/INFO/);
    expect(() => JSON.parse(listening!)).toThrow();
  });
});
