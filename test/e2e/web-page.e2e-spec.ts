/// <reference lib="dom" />
// (DOM types only for the callbacks that run inside the page; the gateway build has none)
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import request from 'supertest';
import { launchBrowser, TestBrowser, waitForPlayback } from '../helpers/browser';
import { ASTRONAUT, REPO_ROOT, startApp, tempDataDir, TestApp } from './e2e-helpers';

// The web page at / (gateway/public): served next to the API and Swagger, found from the source
// tree (in-process app) and from dist/main.js; driven in a real headless chromium to render a job
// and play it. The model is the fake backend (speed does not matter here); everything else is real.
const KEY = 'page-key';

async function listen(t: TestApp): Promise<string> {
  await new Promise<void>((resolve) => t.server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${t.server.address().port}`;
}

describe('web page at /', () => {
  let t: TestApp;
  let base: string;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = tempDataDir('web');
    t = await startApp({ DATA_DIR: dataDir, INFERENCE_BACKEND: 'fake', API_KEYS: KEY });
    base = await listen(t);
  });
  afterAll(async () => {
    await t?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('should serve the page and its modules without a key, next to Swagger and health routes', async () => {
    const page = await request(t.server).get('/').expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(page.text).toContain('<script type="module" src="js/app.js">');
    for (const mod of ['app', 'api', 'job', 'live', 'mse-player', 'pcm']) {
      const res = await request(t.server).get(`/js/${mod}.js`).expect(200);
      expect(res.headers['content-type']).toMatch(/javascript/);
    }
    await request(t.server)
      .get('/style.css')
      .expect(200)
      .expect('Content-Type', /text\/css/);
    await request(t.server)
      .get('/docs/')
      .expect(200)
      .expect('Content-Type', /text\/html/);
    const spec = await request(t.server).get('/docs-json').expect(200);
    expect(spec.body.paths['/v1/jobs']).toBeDefined();
    await request(t.server).get('/healthz').expect(200);
    // the API stays behind its key, and unknown paths are still the gateway's JSON 404
    await request(t.server).get('/v1/avatars').expect(401);
    const missing = await request(t.server).get('/nope.html').expect(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
  });

  describe('in chromium', () => {
    let b: TestBrowser;
    beforeAll(async () => {
      b = await launchBrowser();
    });
    afterAll(() => b?.close());

    it('should upload a face, render a job from text with progress, and play the result', async () => {
      const { page } = b;
      await page.goto(base, { waitUntil: 'load' });
      // the key is stored in localStorage and sent as a Bearer token
      await page.type('#api-key', KEY);
      await page.$eval('#api-key', (el) => el.dispatchEvent(new Event('change')));
      expect(await page.evaluate(() => localStorage.getItem('lipsync.apiKey'))).toBe(KEY);

      const file = await page.$('#face-file');
      await (file as any).uploadFile(ASTRONAUT);
      await page.click('#upload-face');
      await page.waitForFunction(() => /Avatar ready/.test(document.getElementById('status')!.textContent), { timeout: 180_000 });
      const avatarId = await page.$eval('#avatar-select', (s) => (s as HTMLSelectElement).value);
      expect(avatarId).toMatch(/^[a-f0-9]{64}$/);

      await page.$eval('#speech-text', (el) => ((el as HTMLTextAreaElement).value = 'Hello there, this is a test of the page.'));
      await page.click('#start-job');
      const played = await waitForPlayback(page, '#player', 1);
      expect(played.currentTime).toBeGreaterThan(1);
      expect(played.decoded).toBeGreaterThan(0);
      expect(await page.$eval('#job-progress', (p) => (p as HTMLProgressElement).value)).toBe(1);
      // the page played this job's result: the job it names succeeded on the server
      const jobId = await page.$eval('#player', (v) => (v as HTMLVideoElement).dataset.jobId);
      const job = await request(t.server).get(`/v1/jobs/${jobId}`).set('Authorization', `Bearer ${KEY}`).expect(200);
      expect(job.body).toMatchObject({ status: 'succeeded', avatarId });
      expect(await page.$eval('#status', (s) => s.classList.contains('error'))).toBe(false);
      expect(b.errors).toEqual([]);
      // only the avatar list asked for before the key was typed was refused
      expect(b.httpErrors).toEqual([`401 ${base}/v1/avatars`]);
    });

    it('should show an error from the API with its code (wrong key)', async () => {
      const { page } = b;
      await page.goto(base, { waitUntil: 'load' });
      await page.$eval('#api-key', (el) => ((el as HTMLInputElement).value = 'wrong'));
      await page.$eval('#api-key', (el) => el.dispatchEvent(new Event('change')));
      await page.waitForFunction(() => /UNAUTHORIZED/.test(document.getElementById('avatar-select')!.textContent), { timeout: 60_000 });
      await page.click('#start-job');
      await page.waitForFunction(() => document.getElementById('status')!.classList.contains('error'), { timeout: 60_000 });
      expect(await page.$eval('#status', (s) => s.textContent)).toMatch(/avatar/);
    });
  });
});

describe('web page from dist/main.js', () => {
  let proc: ChildProcess | undefined;
  let dataDir: string;

  const freePort = () =>
    new Promise<number>((resolve, reject) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(port));
      });
      s.on('error', reject);
    });

  afterAll(async () => {
    if (proc && proc.exitCode === null) {
      proc.kill('SIGTERM');
      await new Promise((r) => {
        const t = setTimeout(() => (proc!.kill('SIGKILL'), r(undefined)), 20_000);
        proc!.once('exit', () => (clearTimeout(t), r(undefined)));
      });
    }
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('should find gateway/public from the compiled server', async () => {
    const main = path.join(REPO_ROOT, 'dist', 'main.js');
    expect(fs.existsSync(main)).toBe(true); // npm run build first (the e2e layer runs on dist/)
    dataDir = tempDataDir('web-dist');
    const port = await freePort();
    proc = spawn(process.execPath, [main], {
      cwd: REPO_ROOT,
      env: { ...process.env, PORT: String(port), INFERENCE_BACKEND: 'fake', DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    proc.stderr!.on('data', (d) => (stderr += d));
    const url = `http://127.0.0.1:${port}`;
    let up = false;
    for (let i = 0; i < 600 && !up && proc.exitCode === null; i++) {
      up = await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (!up) await new Promise((r) => setTimeout(r, 200));
    }
    expect({ up, stderr: up ? '' : stderr }).toEqual({ up: true, stderr: '' });
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('lipsync-gateway');
    expect((await fetch(`${url}/js/app.js`)).headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${url}/docs-json`)).status).toBe(200);
  });
});
