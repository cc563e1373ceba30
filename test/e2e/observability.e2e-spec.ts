import * as fs from 'fs';
import * as path from 'path';
import request from 'supertest';
import { makeSpeech } from '../helpers/media';
import { KServeTestServer } from '../helpers/kserve-test-server';
import { makeTinyWav2LipModel } from '../helpers/kserve-test-server.fixtures';
import { startPrometheus, TestPrometheus } from '../helpers/prometheus';
import { ASTRONAUT, pollJob, REPO_ROOT, startApp, tempDataDir, TestApp } from './e2e-helpers';

const DASHBOARD = path.join(REPO_ROOT, 'deploy', 'grafana', 'dashboards', 'lipsync-gateway.json');

/** Every PromQL expression in a Grafana dashboard (panel targets, nested rows included). */
function dashboardExprs(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(dashboardExprs);
  if (!node || typeof node !== 'object') return [];
  const own = typeof (node as { expr?: unknown }).expr === 'string' ? [(node as { expr: string }).expr] : [];
  return [...own, ...Object.values(node).flatMap(dashboardExprs)];
}

// The shipped dashboard against a real Prometheus (Debian's) scraping the gateway on the triton
// backend and the KServe test server every second: after one job, every panel's query returns data.
describe('Grafana dashboard queries against Prometheus', () => {
  let dataDir: string;
  let triton: KServeTestServer;
  let t: TestApp;
  let prom: TestPrometheus;

  beforeAll(async () => {
    dataDir = tempDataDir('observability');
    triton = await KServeTestServer.start({ modelPath: makeTinyWav2LipModel(dataDir), metrics: true });
    t = await startApp({ DATA_DIR: path.join(dataDir, 'data'), INFERENCE_BACKEND: 'triton', TRITON_URL: triton.url, BATCH_SIZE: '8' });
    await new Promise<void>((resolve) => t.server.listen(0, '127.0.0.1', resolve));
    prom = await startPrometheus([
      { job: 'gateway', target: `127.0.0.1:${t.server.address().port}` },
      { job: 'triton', target: `127.0.0.1:${triton.metricsPort}` },
    ]);
  });

  afterAll(async () => {
    await prom?.stop();
    await t?.close();
    await triton?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function until(what: string, check: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  it('should return data for every PromQL expression of the shipped dashboard after a job', async () => {
    await until('both targets up', async () => (await prom.query('up == 1')).length === 2);
    const speech = path.join(dataDir, 'speech.wav');
    await makeSpeech(speech, 2);
    const created = await request(t.server).post('/v1/jobs').attach('face', ASTRONAUT).attach('audio', speech).expect(202);
    expect((await pollJob(t.server, created.body.id)).status).toBe('succeeded');
    // scraped after the job: the final counter values and a few samples to take rates over
    await until('the job in Prometheus', async () => (await prom.query('lipsync_jobs_total{status="succeeded"} >= 1')).length === 1);
    await until(
      'Triton counters in Prometheus',
      async () => (await prom.query('nv_inference_request_success{model="wav2lip"} > 0')).length === 1,
    );
    await new Promise((r) => setTimeout(r, 3000));

    const exprs = dashboardExprs(JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')));
    expect(exprs.length).toBeGreaterThanOrEqual(10);
    const empty: string[] = [];
    for (const expr of exprs) {
      const samples = await prom.query(expr);
      // data = at least one series with a number (0/0 would be NaN: a panel with nothing to show)
      if (!samples.some((s) => Number.isFinite(Number(s.value[1])))) empty.push(`${expr} → ${JSON.stringify(samples)}`);
    }
    expect(empty).toEqual([]);
  });
});
