import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { Worker } from 'worker_threads';
import { GatewayError } from '../../../gateway/src/common/errors';
import type { Wav2LipBatch } from '../../../gateway/src/inference/inference-backend';
import { OnnxBackend } from '../../../gateway/src/inference/onnx.backend';
import { byteDiff, makeTinyModel, seededBytes, tinyModelExpected, type TinyVariant } from './tiny-model';

const MEL = 80 * 16;
const FACE = 96 * 96 * 3;

/** Integer mel sums per frame (exact in float32): frame i's window holds `sums[i]` spread over a few cells. */
function batchWithSums(sums: number[], seed = 7): Wav2LipBatch {
  const n = sums.length;
  const mel = new Float32Array(n * MEL);
  sums.forEach((s, i) => {
    mel[i * MEL + 3] = s + 2; // a few cells that add up to s
    mel[i * MEL + 500] = -3;
    mel[i * MEL + 1279] = 1;
  });
  return { n, mel, face: seededBytes(n * FACE, seed) };
}

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: unknown) => (e instanceof GatewayError ? e.code : `non-gateway: ${String(e)}`),
  );

describe(`${OnnxBackend.name} (tiny contract model)`, () => {
  let dir: string;
  let good: string;
  const open: OnnxBackend[] = [];
  const backend = (modelPath: string, batchSize = 32) => {
    const b = new OnnxBackend({ modelPath, onnxThreads: 1, batchSize });
    open.push(b);
    return b;
  };

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-backend-'));
    good = makeTinyModel(dir, 'good');
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((b) => b.close()));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('should be ready with the contract signature and compute the exact output for a batch', async () => {
    const sut = backend(good);
    await sut.start();
    expect(sut.readiness()).toMatchObject({
      ready: true,
      signature: { inputs: [{ name: 'mel', shape: [-1, 1, 80, 16] }, { name: 'face' }] },
    });
    const batch = batchWithSums([0, 37, -50, 300]);
    const out = await sut.infer(batch);
    expect(byteDiff(out, tinyModelExpected(batch.n, batch.mel, batch.face))).toBe('same');
    expect(sut.stats()).toMatchObject({ batches: 1, frames: 4, lastBatchSize: 4, inFlightBatches: 0 });
  });

  it('should leave the caller buffers intact (inputs are copied, not transferred)', async () => {
    const sut = backend(good);
    await sut.start();
    const batch = batchWithSums([5]);
    const faceCopy = batch.face.slice();
    await sut.infer(batch);
    expect(batch.face.byteLength).toBe(FACE);
    expect(byteDiff(batch.face, faceCopy)).toBe('same');
  });

  it('should split a batch larger than batchSize and keep frame order', async () => {
    const sut = backend(good, 2);
    await sut.start();
    const batch = batchWithSums([1, 2, 3, 4, 5], 11);
    expect(byteDiff(await sut.infer(batch), tinyModelExpected(batch.n, batch.mel, batch.face))).toBe('same');
    expect(sut.recentTimings().map((t) => t.n)).toEqual([2, 2, 1]);
  });

  it('should answer concurrent calls each with its own result', async () => {
    const sut = backend(good);
    await sut.start();
    const batches = [batchWithSums([10], 1), batchWithSums([-20, 3], 2), batchWithSums([0, 0, 99], 3)];
    const outs = await Promise.all(batches.map((b) => sut.infer(b)));
    outs.forEach((o, i) => expect(byteDiff(o, tinyModelExpected(batches[i].n, batches[i].mel, batches[i].face))).toBe('same'));
  });

  it.each<[TinyVariant, RegExp]>([
    ['wrong-name', /missing input 'mel'.*unexpected input 'audio'/],
    ['wrong-dtype', /input 'face' is FP32, expected UINT8/],
    ['static-batch', /input 'mel' has shape \[1,1,80,16\]/],
    ['wrong-dims', /input 'face' has shape \[-1,3,96,96\]/],
  ])('should not be ready with a reason naming the problem for a %s model', async (variant, problem) => {
    const sut = backend(makeTinyModel(dir, variant));
    await sut.start();
    const r = sut.readiness();
    expect(r.ready).toBe(false);
    expect(r.reason).toMatch(/^MODEL_CONTRACT_MISMATCH/);
    expect(r.reason).toMatch(problem);
    expect(await codeOf(sut.infer(batchWithSums([1])))).toBe('MODEL_CONTRACT_MISMATCH');
  });

  it('should not be ready when the model file is missing, and say how to build it', async () => {
    const sut = backend(path.join(dir, 'absent.onnx'));
    await sut.start();
    expect(sut.readiness().ready).toBe(false);
    expect(sut.readiness().reason).toMatch(/not found.*bash scripts\/setup-model\.sh/);
    expect(await codeOf(sut.infer(batchWithSums([1])))).toBe('BACKEND_UNAVAILABLE');
  });

  it('should not be ready when the model file is not an ONNX model', async () => {
    const junk = path.join(dir, 'junk.onnx');
    fs.writeFileSync(junk, 'not a model');
    const sut = backend(junk);
    await sut.start();
    expect(sut.readiness()).toMatchObject({ ready: false, reason: expect.stringMatching(/^failed to load/) });
  });

  it('should become ready on a later start() once the model exists', async () => {
    const later = path.join(dir, 'later.onnx');
    const sut = backend(later);
    await sut.start();
    expect(sut.readiness().ready).toBe(false);
    fs.copyFileSync(good, later);
    await sut.start();
    expect(sut.readiness().ready).toBe(true);
  });

  it('should fail with CANCELLED when aborted right after the call, and still run the batch before it', async () => {
    const sut = backend(good);
    await sut.start();
    const first = batchWithSums([4]);
    const ac = new AbortController();
    const p1 = sut.infer(first);
    const p2 = codeOf(sut.infer(batchWithSums([5]), { signal: ac.signal }));
    ac.abort();
    expect(await p2).toBe('CANCELLED');
    expect(byteDiff(await p1, tinyModelExpected(1, first.mel, first.face))).toBe('same');
    await sut.infer(batchWithSums([6])); // FIFO: the worker is done with the cancelled one by now
    expect(sut.stats()).toMatchObject({ batches: 2, inFlightBatches: 0 });
  });

  it('should fail with CANCELLED without queuing when the signal is already aborted', async () => {
    const sut = backend(good);
    await sut.start();
    const ac = new AbortController();
    ac.abort();
    expect(await codeOf(sut.infer(batchWithSums([1]), { signal: ac.signal }))).toBe('CANCELLED');
    expect(sut.stats().inFlightBatches).toBe(0);
  });

  it('should fail with DEADLINE_EXCEEDED when the deadline has passed before the batch runs', async () => {
    const sut = backend(good);
    await sut.start();
    expect(await codeOf(sut.infer(batchWithSums([1]), { deadlineMs: 0 }))).toBe('DEADLINE_EXCEEDED');
  });

  it('should reject an invalid batch with INFERENCE_FAILED before it reaches the worker', async () => {
    const sut = backend(good);
    await sut.start();
    const bad = { n: 2, mel: new Float32Array(MEL), face: new Uint8Array(2 * FACE) };
    expect(await codeOf(sut.infer(bad))).toBe('INFERENCE_FAILED');
  });

  it('should turn not ready, naming the cause, when the worker dies, and restart for the next batch', async () => {
    const sut = backend(good);
    await sut.start();
    const dead = (sut as unknown as { worker: Worker }).worker;
    await dead.terminate();
    expect(sut.readiness()).toMatchObject({ ready: false, reason: expect.stringMatching(/onnx worker exited/) });
    const batch = batchWithSums([8, -2]);
    expect(byteDiff(await sut.infer(batch), tinyModelExpected(batch.n, batch.mel, batch.face))).toBe('same');
    expect(sut.readiness().ready).toBe(true);
    expect((sut as unknown as { worker: Worker }).worker).not.toBe(dead);
  });

  it('should become ready again on its own after the worker dies (callers that only check readiness recover)', async () => {
    const sut = backend(good);
    await sut.start();
    await (sut as unknown as { worker: Worker }).worker.terminate();
    expect(sut.readiness().ready).toBe(false); // this look starts one restart in the background
    for (let i = 0; i < 500 && !sut.readiness().ready; i++) await new Promise((r) => setTimeout(r, 20));
    expect(sut.readiness().ready).toBe(true);
  });

  it('should not restart after close()', async () => {
    const sut = backend(good);
    await sut.start();
    await sut.close();
    expect(await codeOf(sut.infer(batchWithSums([1])))).toBe('BACKEND_UNAVAILABLE');
    expect(sut.readiness()).toEqual({ ready: false, reason: 'closed' });
    expect((sut as unknown as { worker?: Worker }).worker).toBeUndefined();
  });

  it('should close promptly while the model is still loading and stay closed', async () => {
    const sut = backend(good);
    const started = sut.start();
    // a hung close() waits WORKER_EXIT_TIMEOUT_MS (60 s) for an exit that already happened
    const hung = new Promise<string>((resolve) => setTimeout(() => resolve('close() hung'), 15_000).unref());
    expect(await Promise.race([Promise.all([sut.close(), started]).then(() => 'closed'), hung])).toBe('closed');
    expect(sut.readiness()).toEqual({ ready: false, reason: 'closed' });
    expect(await codeOf(sut.infer(batchWithSums([1])))).toBe('BACKEND_UNAVAILABLE');
  });

  it('should terminate the worker on close() and refuse later batches', async () => {
    const sut = backend(good);
    await sut.start();
    const worker = (sut as unknown as { worker?: Worker }).worker;
    expect(worker).toBeDefined();
    const exited = new Promise<number>((resolve) => worker!.once('exit', resolve));
    await sut.close();
    await exited;
    expect(sut.readiness()).toEqual({ ready: false, reason: 'closed' });
    expect(await codeOf(sut.infer(batchWithSums([1])))).toBe('BACKEND_UNAVAILABLE');
  });
});
