import * as fs from 'fs';
import type { AddressInfo } from 'net';
import * as path from 'path';
import { runLoadtest } from '../../gateway/src/tools/loadtest';
import { ASTRONAUT, startApp, tempDataDir, TestApp } from './e2e-helpers';
import { makeSpeech } from '../helpers/media';
import { KServeTestServer } from '../helpers/kserve-test-server';
import { makeTinyWav2LipModel } from '../helpers/kserve-test-server.fixtures';

/**
 * The production shape on one machine: the gateway with INFERENCE_BACKEND=triton against the
 * KServe v2 test server (the tiny contract model keeps it fast), driven over HTTP by the load test,
 * which scrapes the server's Triton-named metrics before and after.
 */
describe('load test through the gateway on the triton backend', () => {
  let dataDir: string;
  let triton: KServeTestServer;
  let t: TestApp;
  let baseUrl: string;
  let speech: string;

  beforeAll(async () => {
    dataDir = tempDataDir('loadtest');
    triton = await KServeTestServer.start({ modelPath: makeTinyWav2LipModel(dataDir), metrics: true });
    t = await startApp({
      DATA_DIR: path.join(dataDir, 'data'),
      INFERENCE_BACKEND: 'triton',
      TRITON_URL: triton.url,
      JOB_CONCURRENCY: '2',
      BATCH_SIZE: '16',
    });
    await new Promise<void>((resolve) => t.server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(t.server.address() as AddressInfo).port}`;
    speech = path.join(dataDir, 'speech.wav');
    await makeSpeech(speech, 1);
  });

  afterAll(async () => {
    await t?.close();
    await triton?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('should run every job to success and report jobs/s, latency percentiles, batch size and queue vs compute time', async () => {
    const lines: string[] = [];
    const report = await runLoadtest(
      {
        gatewayUrl: baseUrl,
        concurrency: 2,
        jobs: 4,
        durationS: 0,
        face: ASTRONAUT,
        audio: speech,
        tritonMetricsUrl: triton.metricsUrl,
        tritonModel: 'wav2lip',
        pollMs: 100,
        jobTimeoutS: 120,
      },
      (l) => lines.push(l),
    );
    expect(report).toMatch(/^jobs: 4 \(succeeded 4, failed 0\)$/m);
    expect(report).toMatch(/throughput: \d+\.\d+ jobs\/s/);
    expect(report).toMatch(/job latency: p50 \d+ ms, p95 \d+ ms/);
    // 1 s of speech at 25 fps = 26 frames per job in batches of ≤ 16: two requests per job, 104 inferences in all
    const m = /triton: (\d+) requests \(0 failed\), (\d+) inferences in (\d+) executions/.exec(report);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBe(8);
    expect(Number(m![2])).toBe(4 * Math.ceil((81 * 25) / 80));
    expect(report).toMatch(/triton: \d+\.\d\d frames per execution \(inference_count \/ exec_count\), \d+\.\d\d requests per execution/);
    expect(report).toMatch(/queue \d+\.\d\d ms vs compute \d+\.\d\d ms/);
    expect(lines[0]).toMatch(/loadtest: 2 concurrent/);
  });
});
