import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as os from 'os';
import * as path from 'path';
import { jobIdOf, jobStatusOf, parseLoadtestArgs, retryAfterMs, runLoadtest } from '../../../gateway/src/tools/loadtest';
import {
  formatReport,
  parsePrometheusText,
  percentile,
  summarizeJobs,
  sumMetric,
  tritonCounters,
  tritonWindow,
} from '../../../gateway/src/tools/loadtest-report';
import { newServerCounters, renderTritonMetrics, ServerCounters } from '../../helpers/kserve-test-server.metrics';

const TEXT = `# HELP nv_inference_count Number of inferences
# TYPE nv_inference_count counter
nv_inference_count{model="wav2lip",version="1"} 96
nv_inference_count{model="other",version="1"} 5
nv_inference_exec_count{model="wav2lip",version="1"} 3
nv_inference_request_success{model="wav2lip",version="1"} 12
nv_inference_request_failure{model="wav2lip",reason="BACKEND",version="1"} 1
nv_inference_queue_duration_us{model="wav2lip",version="1"} 24000
nv_inference_compute_infer_duration_us{model="wav2lip",version="1"} 600000 1700000000000
nv_gpu_utilization{gpu_uuid="GPU-1"} 0.75
weird{msg="a \\"quoted\\" \\\\ value"} +Inf
`;

describe('loadtest-report', () => {
  it('should parse samples with labels, timestamps, escapes and special values', () => {
    const s = parsePrometheusText(TEXT);
    expect(s).toHaveLength(9);
    expect(s[0]).toEqual({ name: 'nv_inference_count', labels: { model: 'wav2lip', version: '1' }, value: 96 });
    expect(s.find((x) => x.name === 'nv_inference_compute_infer_duration_us')?.value).toBe(600000);
    expect(s[8]).toEqual({ name: 'weird', labels: { msg: 'a "quoted" \\ value' }, value: Infinity });
    expect(sumMetric(s, 'nv_inference_count')).toBe(101);
    expect(sumMetric(s, 'nv_inference_count', { model: 'wav2lip' })).toBe(96);
  });

  it('should turn two scrapes into batch size and per-request queue vs compute time', () => {
    const before = tritonCounters(parsePrometheusText(TEXT));
    const after = {
      ...before,
      success: before.success + 4,
      inferences: before.inferences + 128,
      executions: before.executions + 2,
      queueUs: before.queueUs + 8_000,
      computeInferUs: before.computeInferUs + 400_000,
      requestUs: before.requestUs + 410_000,
    };
    const w = tritonWindow(before, after);
    expect(w).toMatchObject({
      requests: 4,
      inferences: 128,
      executions: 2,
      framesPerExecution: 64,
      requestsPerExecution: 2,
      avgQueueMs: 2,
      avgComputeInferMs: 100,
    });
    expect(w.avgRequestMs).toBeCloseTo(102.5);
    expect(Number.isNaN(tritonWindow(before, before).framesPerExecution)).toBe(true);
  });

  it('should interpolate percentiles between closest ranks', () => {
    expect(percentile([10, 20, 30, 40], 50)).toBe(25);
    expect(percentile([40, 10, 30, 20], 0)).toBe(10);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21], 95)).toBe(20);
    expect(percentile([7], 95)).toBe(7);
    expect(Number.isNaN(percentile([], 50))).toBe(true);
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });

  it('should summarise successes for throughput and latency, and count failures by code', () => {
    const s = summarizeJobs(
      [
        { ok: true, latencyMs: 1000 },
        { ok: true, latencyMs: 3000 },
        { ok: false, latencyMs: 10, error: 'QUEUE_FULL' },
        { ok: false, latencyMs: 10, error: 'QUEUE_FULL' },
      ],
      4000,
    );
    expect(s).toMatchObject({ jobs: 4, succeeded: 2, failed: 2, jobsPerSec: 0.5, p50Ms: 2000, errors: { QUEUE_FULL: 2 } });
    const report = formatReport(s);
    expect(report).toContain('throughput: 0.500 jobs/s');
    expect(report).toContain('errors: QUEUE_FULL×2');
  });
});

describe('loadtest options and API parsing', () => {
  it('should prefer flags over env, and always bound the run', () => {
    const o = parseLoadtestArgs(['--face', 'f.png', '--concurrency', '8'], {
      GATEWAY_URL: 'http://gw:9/',
      LOADTEST_AUDIO: 'a.wav',
      API_KEY: 'k',
      LOADTEST_CONCURRENCY: '2',
    });
    expect(o).toMatchObject({ gatewayUrl: 'http://gw:9', apiKey: 'k', concurrency: 8, jobs: 0, durationS: 30 });
    expect(o.face).toBe(path.resolve('f.png'));
    expect(() => parseLoadtestArgs(['--face', 'f', '--audio', 'a', '--concurrency', '0'], {})).toThrow(
      /--concurrency must be an integer >= 1/,
    );
    expect(() => parseLoadtestArgs(['--audio', 'a'], {})).toThrow(/--face and --audio are required/);
  });

  it('should read Retry-After seconds, capped, with a fallback', () => {
    expect(retryAfterMs('2', 500)).toBe(2000);
    expect(retryAfterMs('600', 500)).toBe(60_000);
    expect(retryAfterMs(null, 500)).toBe(500);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:00 GMT', 500)).toBe(500);
  });

  it('should read job id and status in the shapes the API may use', () => {
    expect(jobIdOf({ id: 'a' })).toBe('a');
    expect(jobIdOf({ job: { id: 'b' } })).toBe('b');
    expect(jobIdOf({ error: { code: 'X' } })).toBeUndefined();
    expect(jobStatusOf({ status: 'failed', error: { code: 'NO_FACE_FOUND' } })).toEqual({ status: 'failed', error: 'NO_FACE_FOUND' });
    expect(jobStatusOf({ job: { status: 'running' } })).toEqual({ status: 'running', error: undefined });
  });
});

describe('runLoadtest against a fake gateway', () => {
  it('should upload face and audio, poll each job to the end and report Triton deltas', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loadtest-'));
    fs.writeFileSync(path.join(dir, 'face.png'), 'FACE');
    fs.writeFileSync(path.join(dir, 'audio.wav'), 'AUDIO');
    const counters: ServerCounters = newServerCounters();
    const polls = new Map<string, number>();
    let posts = 0;
    let rateLimited = false;
    let sawBoth = true;
    let auth = '';
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        if (req.url!.startsWith('/v1/')) auth = String(req.headers.authorization);
        if (req.method === 'POST' && req.url === '/v1/jobs') {
          sawBoth &&= /name="face"/.test(body) && /FACE/.test(body) && /name="audio"/.test(body) && /AUDIO/.test(body);
          const id = `j${++posts}`;
          polls.set(id, 0);
          return void res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ id, status: 'queued' }));
        }
        if (req.url === '/metrics') return void res.writeHead(200).end(renderTritonMetrics('wav2lip', counters));
        const id = req.url!.split('/').pop()!;
        if (id === 'j2' && !rateLimited) {
          rateLimited = true;
          return void res
            .writeHead(429, { 'retry-after': '0', 'content-type': 'application/json' })
            .end('{"error":{"code":"RATE_LIMITED"}}');
        }
        const n = (polls.get(id) ?? 0) + 1;
        polls.set(id, n);
        if (n === 2) {
          // job finishes: one batch of 16 frames at Triton
          counters.success++;
          counters.inferenceCount += 16;
          counters.execCount++;
          counters.queueNs += 1e6;
          counters.computeInferNs += 4e6;
        }
        const status = n < 2 ? 'running' : id === 'j3' ? 'failed' : 'succeeded';
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ id, status, error: status === 'failed' ? { code: 'NO_FACE_FOUND' } : undefined }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const report = await runLoadtest(
        {
          gatewayUrl: base,
          apiKey: 'secret',
          concurrency: 2,
          jobs: 4,
          durationS: 0,
          face: path.join(dir, 'face.png'),
          audio: path.join(dir, 'audio.wav'),
          tritonMetricsUrl: `${base}/metrics`,
          tritonModel: 'wav2lip',
          pollMs: 5,
          jobTimeoutS: 10,
        },
        () => undefined,
      );
      expect(posts).toBe(4);
      expect(sawBoth).toBe(true);
      expect(auth).toBe('Bearer secret');
      expect(rateLimited).toBe(true); // a 429 on polling is waited out, not counted as a failed job
      expect(report).toContain('jobs: 4 (succeeded 3, failed 1)');
      expect(report).toContain('errors: NO_FACE_FOUND×1');
      expect(report).toContain('64 inferences in 4 executions');
      expect(report).toContain('16.00 frames per execution');
      expect(report).toContain('queue 1.00 ms vs compute 4.00 ms');
    } finally {
      server.close();
    }
  });
});
