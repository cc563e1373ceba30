import * as ort from 'onnxruntime-node';
import { GatewayError } from '../../../gateway/src/common/errors';
import { loadConfig } from '../../../gateway/src/config/config';
import { TritonBackend } from '../../../gateway/src/inference/triton/triton.backend';
import { FACE_ELEMENTS } from '../../../gateway/src/inference/model-contract';
import { KServeTestServer } from '../../helpers/kserve-test-server';
import { closedPort, makeBatch, makeTinyWav2LipModel } from '../../helpers/kserve-test-server.fixtures';

const backendFor = (url: string, env: Record<string, string> = {}) =>
  new TritonBackend(loadConfig({ INFERENCE_BACKEND: 'triton', TRITON_URL: url, TRITON_READY_POLL_MS: '60000', ...env }));

const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    return err.code;
  }
};

async function runInProcess(modelPath: string, batch: ReturnType<typeof makeBatch>): Promise<Uint8Array> {
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1 });
  try {
    const out = await session.run({
      mel: new ort.Tensor('float32', batch.mel, [batch.n, 1, 80, 16]),
      face: new ort.Tensor('uint8', batch.face, [batch.n, 96, 96, 3]),
    });
    return out.mouth.data as Uint8Array;
  } finally {
    await session.release();
  }
}

describe(TritonBackend.name, () => {
  let modelPath: string;
  let server: KServeTestServer;
  let sut: TritonBackend;

  beforeAll(() => {
    modelPath = makeTinyWav2LipModel();
  });

  beforeEach(async () => {
    server = await KServeTestServer.start({ modelPath });
  });

  afterEach(async () => {
    await sut?.close();
    await server?.stop();
  });

  it('should become ready and return the same bytes as in-process onnxruntime', async () => {
    sut = backendFor(server.url);
    await sut.start();
    expect(sut.readiness()).toMatchObject({ ready: true });
    const batch = makeBatch(3, 7);
    const mouth = await sut.infer(batch);
    expect(mouth.length).toBe(3 * FACE_ELEMENTS);
    expect(Buffer.from(mouth).equals(Buffer.from(await runInProcess(modelPath, batch)))).toBe(true);
    // independent of ORT too: the tiny model is 255 - face
    expect(mouth[0]).toBe(255 - batch.face[0]);
    expect(mouth[mouth.length - 1]).toBe(255 - batch.face[batch.face.length - 1]);
  });

  it("should carry a batch above grpc-js's 4 MiB default message size in both directions", async () => {
    server.maxBatchSize = 256; // one request, not chunks
    sut = backendFor(server.url);
    await sut.start();
    const batch = makeBatch(160, 5); // request ~5.2 MB, response ~4.4 MB
    const mouth = await sut.infer(batch);
    expect(mouth.length).toBe(160 * FACE_ELEMENTS);
    expect(mouth[mouth.length - 1]).toBe(255 - batch.face[batch.face.length - 1]);
  });

  it("should split a batch above the model's max_batch_size into chunks, in frame order", async () => {
    server.maxBatchSize = 4;
    sut = backendFor(server.url);
    await sut.start();
    const batch = makeBatch(10, 9);
    const mouth = await sut.infer(batch);
    expect([...server.inferBatchSizes].sort((a, b) => b - a)).toEqual([4, 4, 2]);
    // the tiny model is 255 - face: every frame comes back in its own place
    for (let i = 0; i < batch.n; i++) {
      const at = i * FACE_ELEMENTS + 1234;
      expect([i, mouth[at]]).toEqual([i, 255 - batch.face[at]]);
    }
    await sut.infer(makeBatch(4, 2)); // at the limit: one request
    expect(server.inferBatchSizes.slice(3)).toEqual([4]);
  });

  it('should be not ready with a clear reason and refuse to infer when the metadata breaks the contract', async () => {
    server.faults.metadata = {
      outputs: [{ name: 'mouth', datatype: 'FP32', shape: [-1, 96, 96, 3] }],
    };
    sut = backendFor(server.url);
    await sut.start();
    const r = sut.readiness();
    expect(r.ready).toBe(false);
    expect(r.reason).toMatch(/does not match the contract/);
    expect(r.reason).toMatch(/output 'mouth' is FP32, expected UINT8/);
    expect(await codeOf(sut.infer(makeBatch(1)))).toBe('MODEL_CONTRACT_MISMATCH');
    expect(server.inferCalls).toBe(0);
  });

  it('should be not ready when the model is not ready, and become ready after the next probe', async () => {
    server.faults.modelNotReady = true;
    sut = backendFor(server.url);
    await sut.start();
    expect(sut.readiness().reason).toMatch(/model 'wav2lip' not ready/);
    server.faults.modelNotReady = false;
    await sut.refreshReadiness();
    expect(sut.readiness().ready).toBe(true);
  });

  it('should fail with DEADLINE_EXCEEDED, not hang, when the server answers slower than the deadline', async () => {
    sut = backendFor(server.url);
    await sut.start();
    server.faults.inferDelayMs = 3_000;
    // the server would answer successfully after 3 s; the code proves the deadline cut the call
    expect(await codeOf(sut.infer(makeBatch(1), { deadlineMs: 300 }))).toBe('DEADLINE_EXCEEDED');
  });

  it('should fail with CANCELLED when the signal aborts mid-call', async () => {
    sut = backendFor(server.url);
    await sut.start();
    server.faults.inferDelayMs = 3_000;
    const ac = new AbortController();
    const p = sut.infer(makeBatch(1), { signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    expect(await codeOf(p)).toBe('CANCELLED');
  });

  it('should retry UNAVAILABLE and succeed, and give up with BACKEND_UNAVAILABLE after maxAttempts', async () => {
    sut = backendFor(server.url, { TRITON_MAX_ATTEMPTS: '3' });
    await sut.start();
    server.faults.unavailable = 1;
    await expect(sut.infer(makeBatch(2))).resolves.toHaveLength(2 * FACE_ELEMENTS);
    expect(server.inferCalls).toBe(2);
    server.faults.unavailable = Infinity;
    expect(await codeOf(sut.infer(makeBatch(1)))).toBe('BACKEND_UNAVAILABLE');
    expect(server.inferCalls).toBe(2 + 3);
  });

  it('should retry or fail cleanly when the server restarts on the same port mid-run', async () => {
    sut = backendFor(server.url, { TRITON_MAX_ATTEMPTS: '6' });
    await sut.start();
    server.faults.inferDelayMs = 500;
    const port = server.port;
    const pending = sut.infer(makeBatch(2), { deadlineMs: 10_000 });
    await new Promise((r) => setTimeout(r, 150));
    await server.stop();
    await new Promise((r) => setTimeout(r, 200));
    server = await KServeTestServer.start({ modelPath, port });
    const outcome = await pending.then(
      (m) => m.length,
      (err: GatewayError) => err.code,
    );
    expect([2 * FACE_ELEMENTS, 'BACKEND_UNAVAILABLE']).toContain(outcome);
    // the restarted server serves the next batch either way
    await expect(sut.infer(makeBatch(1))).resolves.toHaveLength(FACE_ELEMENTS);
  });

  it('should keep at most maxInFlight calls at the server and queue the rest', async () => {
    sut = backendFor(server.url, { TRITON_MAX_IN_FLIGHT: '2' });
    await sut.start();
    server.faults.inferDelayMs = 200;
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => sut.infer(makeBatch(1, i + 1))));
    expect(results).toHaveLength(6);
    expect(server.inferCalls).toBe(6);
    expect(server.maxInFlight).toBe(2);
  });

  it('should report not ready with a reason and fail fast with BACKEND_UNAVAILABLE when Triton is unreachable at start', async () => {
    const url = `127.0.0.1:${await closedPort()}`;
    sut = backendFor(url);
    await expect(sut.start()).resolves.toBeUndefined();
    const r = sut.readiness();
    expect(r.ready).toBe(false);
    expect(r.reason).toContain(`Triton at ${url} unreachable`);
    expect(await codeOf(sut.infer(makeBatch(1)))).toBe('BACKEND_UNAVAILABLE');
  });

  it.each([
    ['wrongOutputShape', /has shape \[1,96,96,3\], expected \[2,96,96,3\]/],
    ['truncatedOutput', /has 55295 raw bytes, expected 55296 for 2 frames/],
    ['missingOutput', /has no output 'mouth'/],
  ] as const)('should fail with INFERENCE_FAILED when the response has %s', async (fault, message) => {
    sut = backendFor(server.url);
    await sut.start();
    server.faults[fault] = true;
    const err = await sut.infer(makeBatch(2)).catch((e: GatewayError) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('INFERENCE_FAILED');
    expect((err as GatewayError).message).toMatch(message);
  });
});
