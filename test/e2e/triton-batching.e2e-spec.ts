import * as fs from 'fs';
import type { AddressInfo } from 'net';
import * as path from 'path';
import sharp from 'sharp';
import { runLoadtest } from '../../gateway/src/tools/loadtest';
import { startApp, tempDataDir, TestApp } from './e2e-helpers';
import { ASTRONAUT, makeSpeech } from '../helpers/media';
import { KServeTestServer, TRITON_LIKE_BATCHING } from '../helpers/kserve-test-server';
import { makeTinyWav2LipModel } from '../helpers/kserve-test-server.fixtures';

const JOBS = 8;
const REQUEST_FRAMES = 8;

/**
 * Several jobs in flight are what Triton's dynamic batcher needs to merge requests: against the test
 * server batching like Triton (2 ms queue delay, 40 ms per execution, one instance), 8 concurrent jobs
 * sending 8-frame requests on the gateway's default settings must reach more frames per execution than
 * one job alone ever can (its pipeline keeps 2 requests in flight: at most 16 frames). A small avatar
 * keeps the 2-core CPU (compositing, x264) from being the bottleneck, so the figure shows the
 * orchestration, not this machine. No timing is asserted: frames per execution come from the counters.
 */
describe('Triton dynamic batching across concurrent jobs (default settings)', () => {
  let dataDir: string;
  let triton: KServeTestServer;
  let t: TestApp;
  let baseUrl: string;
  let speech: string;
  let face: string;

  beforeAll(async () => {
    dataDir = tempDataDir('batching');
    triton = await KServeTestServer.start({ modelPath: makeTinyWav2LipModel(dataDir), dynamicBatching: TRITON_LIKE_BATCHING });
    // defaults on purpose: JOB_CONCURRENCY, TRITON_MAX_IN_FLIGHT and the pipeline depth as shipped
    t = await startApp({
      DATA_DIR: path.join(dataDir, 'data'),
      INFERENCE_BACKEND: 'triton',
      TRITON_URL: triton.url,
      BATCH_SIZE: String(REQUEST_FRAMES),
    });
    await new Promise<void>((resolve) => t.server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(t.server.address() as AddressInfo).port}`;
    speech = path.join(dataDir, 'speech.wav');
    await makeSpeech(speech, 4);
    face = path.join(dataDir, 'face.png');
    await sharp(ASTRONAUT).resize(192, 192).toFile(face);
  });

  afterAll(async () => {
    await t?.close();
    await triton?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const loadtest = (jobs: number) =>
    runLoadtest(
      {
        gatewayUrl: baseUrl,
        concurrency: jobs,
        jobs,
        durationS: 0,
        face,
        audio: speech,
        tritonMetricsUrl: triton.metricsUrl,
        tritonModel: 'wav2lip',
        pollMs: 200,
        jobTimeoutS: 120,
      },
      () => undefined,
    );
  const framesPerExecution = (report: string) => {
    const m = /triton: (\d+\.\d+) frames per execution/.exec(report);
    expect(m).not.toBeNull();
    return Number(m![1]);
  };

  it('should merge at most its 2 in-flight requests for one job alone (16 frames)', async () => {
    const report = await loadtest(1);
    expect(report).toMatch(/^jobs: 1 \(succeeded 1, failed 0\)$/m);
    expect(Math.max(...triton.inferBatchSizes)).toBe(REQUEST_FRAMES); // the requests really were 8 frames
    expect(Math.max(...triton.executionSizes)).toBeLessThanOrEqual(2 * REQUEST_FRAMES);
    expect(framesPerExecution(report)).toBeLessThanOrEqual(2 * REQUEST_FRAMES);
  });

  it(`should merge ${JOBS} jobs' ${REQUEST_FRAMES}-frame requests into executions of more than 16 frames on average`, async () => {
    const seen = triton.executionSizes.length;
    const report = await loadtest(JOBS);
    const sizes = triton.executionSizes.slice(seen);
    console.log(`${report}\nexecution sizes: ${sizes.join(' ')}`);
    expect(report).toMatch(new RegExp(`^jobs: ${JOBS} \\(succeeded ${JOBS}, failed 0\\)$`, 'm'));
    expect(framesPerExecution(report)).toBeGreaterThan(2 * REQUEST_FRAMES);
    // more than 4 requests in one execution: what the former in-flight bound of 4 could never send at once
    expect(Math.max(...sizes)).toBeGreaterThan(4 * REQUEST_FRAMES);
  });
});
