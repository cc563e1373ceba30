import * as fs from 'fs';
import * as ort from 'onnxruntime-node';
import { loadConfig } from '../../../gateway/src/config/config';
import { FACE_ELEMENTS } from '../../../gateway/src/inference/model-contract';
import { TritonGrpcClient } from '../../../gateway/src/inference/triton/triton-grpc.client';
import { TritonBackend } from '../../../gateway/src/inference/triton/triton.backend';
import { parsePrometheusText, tritonCounters } from '../../../gateway/src/tools/loadtest-report';
import { KServeTestServer, TRITON_LIKE_BATCHING } from '../../helpers/kserve-test-server';
import { DEMO_MODEL, makeBatch, makeTinyWav2LipModel } from '../../helpers/kserve-test-server.fixtures';

describe(KServeTestServer.name, () => {
  let server: KServeTestServer | undefined;
  let client: TritonGrpcClient | undefined;
  let backend: TritonBackend | undefined;

  afterEach(async () => {
    await backend?.close();
    client?.close();
    await server?.stop();
    backend = client = server = undefined;
  });

  it('should report Triton-style statistics and /metrics that agree with the calls made', async () => {
    server = await KServeTestServer.start({ modelPath: makeTinyWav2LipModel() });
    backend = new TritonBackend(loadConfig({ INFERENCE_BACKEND: 'triton', TRITON_URL: server.url }));
    await backend.start();
    for (const n of [1, 3, 4]) await backend.infer(makeBatch(n, n));

    client = new TritonGrpcClient(server.url);
    const stats = await client.modelStatistics('wav2lip', { deadlineMs: 2_000 });
    const s = stats.model_stats[0];
    expect(Number(s.inference_count)).toBe(8);
    expect(Number(s.execution_count)).toBe(3);
    expect(Number(s.inference_stats.success?.count)).toBe(3);
    expect(Number(s.inference_stats.compute_infer?.ns)).toBeGreaterThan(0);
    expect(s.batch_stats.map((b) => Number(b.batch_size)).sort()).toEqual([1, 3, 4]);

    const text = await (await fetch(server.metricsUrl)).text();
    const counters = tritonCounters(parsePrometheusText(text), 'wav2lip');
    expect(counters).toMatchObject({ success: 3, inferences: 8, executions: 3, failure: 0 });
    expect(counters.computeInferUs).toBeGreaterThan(0);
  });

  it('should merge concurrent requests as the dynamic batcher, answer each with its own slice and count executions', async () => {
    server = await KServeTestServer.start({ modelPath: makeTinyWav2LipModel(), dynamicBatching: TRITON_LIKE_BATCHING, maxBatchSize: 16 });
    backend = new TritonBackend(loadConfig({ INFERENCE_BACKEND: 'triton', TRITON_URL: server.url, TRITON_MAX_IN_FLIGHT: '16' }));
    await backend.start();
    const batches = [3, 5, 8, 2, 6].map((n, i) => makeBatch(n, 100 + i));
    const outs = await Promise.all(batches.map((b) => backend!.infer(b)));
    // the tiny model is mouth = 255 - face: each request got the slice of its own frames
    outs.forEach((o, i) => expect(Buffer.from(o).equals(Buffer.from(batches[i].face.map((v) => 255 - v)))).toBe(true));
    const execs = server.executionSizes;
    expect(execs.reduce((a, b) => a + b, 0)).toBe(24);
    expect(Math.max(...execs)).toBeLessThanOrEqual(16);
    expect(execs.length).toBeLessThan(batches.length); // merged: fewer executions than requests

    const counters = tritonCounters(parsePrometheusText(await (await fetch(server.metricsUrl)).text()), 'wav2lip');
    expect(counters).toMatchObject({ success: 5, inferences: 24, executions: execs.length, failure: 0 });
    // each request is counted with its whole execution's time (at least the fixed 40 ms)
    expect(counters.computeInferUs).toBeGreaterThanOrEqual(5 * 39_000);
  });

  it('should answer ModelConfig with the contract in Triton config terms', async () => {
    server = await KServeTestServer.start({ modelPath: makeTinyWav2LipModel(), metrics: false });
    client = new TritonGrpcClient(server.url);
    const { config } = await client.modelConfig('wav2lip', { deadlineMs: 2_000 });
    expect(config.max_batch_size).toBeGreaterThan(0);
    expect(config.input.map((t) => [t.name, t.data_type, t.dims.map(Number)])).toEqual([
      ['mel', 'TYPE_FP32', [1, 80, 16]],
      ['face', 'TYPE_UINT8', [96, 96, 3]],
    ]);
    expect(config.output.map((t) => t.name)).toEqual(['mouth']);
  });

  it('should give the same mouth bytes as in-process onnxruntime for the real demo model', async () => {
    if (!fs.existsSync(DEMO_MODEL)) throw new Error(`${DEMO_MODEL} missing: run 'bash scripts/setup-model.sh' first`);
    server = await KServeTestServer.start({ modelPath: DEMO_MODEL, metrics: false, intraOpThreads: 2 });
    backend = new TritonBackend(loadConfig({ INFERENCE_BACKEND: 'triton', TRITON_URL: server.url }));
    await backend.start();
    expect(backend.readiness().ready).toBe(true);
    const batch = makeBatch(2, 42);
    const viaTriton = await backend.infer(batch);
    await server.stop();
    server = undefined;

    const session = await ort.InferenceSession.create(DEMO_MODEL, { intraOpNumThreads: 2 });
    const out = await session.run({
      mel: new ort.Tensor('float32', batch.mel, [2, 1, 80, 16]),
      face: new ort.Tensor('uint8', batch.face, [2, 96, 96, 3]),
    });
    await session.release();
    const inProcess = out.mouth.data as Uint8Array;
    expect(viaTriton.length).toBe(2 * FACE_ELEMENTS);
    expect(Buffer.from(viaTriton).equals(Buffer.from(inProcess))).toBe(true);
    // a real network, not an echo: the output differs from the input face
    expect(Buffer.from(viaTriton).equals(Buffer.from(batch.face))).toBe(false);
  });
});
