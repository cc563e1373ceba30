import * as fs from 'fs';
import { loadConfig } from '../../../gateway/src/config/config';
import { GatewayError } from '../../../gateway/src/common/errors';
import type { Wav2LipBatch } from '../../../gateway/src/inference/inference-backend';
import { OnnxBackend } from '../../../gateway/src/inference/onnx.backend';
import { byteDiff, seededBytes } from './tiny-model';

const MEL = 80 * 16;
const FACE = 96 * 96 * 3;

/** The demo model built by `bash scripts/setup-model.sh` (scripts/test.sh builds it before the tests). */
const modelPath = loadConfig({}).modelPath;

function demoBatch(n: number, seed: number): Wav2LipBatch {
  const bytes = seededBytes(n * MEL, seed);
  const mel = Float32Array.from(bytes, (b) => (b / 255) * 8 - 4); // the mel's normalised range [-4, 4]
  return { n, mel, face: seededBytes(n * FACE, seed + 1) };
}

function maxAbsDiff(a: Uint8Array, b: Uint8Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: unknown) => (e instanceof GatewayError ? e.code : `non-gateway: ${String(e)}`),
  );

describe(`${OnnxBackend.name} (demo Wav2Lip model)`, () => {
  let sut: OnnxBackend;

  beforeAll(async () => {
    if (!fs.existsSync(modelPath)) throw new Error(`demo model missing at ${modelPath}: run \`bash scripts/setup-model.sh\``);
    sut = new OnnxBackend({ modelPath, onnxThreads: 2, batchSize: 8 });
    await sut.start();
  });
  afterAll(() => sut?.close());

  it('should load the demo model and find it matches the contract', () => {
    expect(sut.readiness()).toMatchObject({ ready: true });
  });

  it('should return N×96×96×3 bytes for a batch of 2, identical across two runs', async () => {
    const batch = demoBatch(2, 1);
    const a = await sut.infer(batch);
    const b = await sut.infer(batch);
    expect(a.length).toBe(2 * FACE);
    expect(byteDiff(a, b)).toBe('same');
    expect(byteDiff(a.subarray(0, FACE), a.subarray(FACE))).not.toBe('same'); // different inputs, different frames
  });

  it('should accept batches of 1 and 3 (dynamic batch) and keep frames independent of the batch', async () => {
    const three = demoBatch(3, 5);
    const one: Wav2LipBatch = { n: 1, mel: three.mel.subarray(MEL, 2 * MEL), face: three.face.subarray(FACE, 2 * FACE) };
    const out3 = await sut.infer(three);
    const out1 = await sut.infer(one);
    expect(out3.length).toBe(3 * FACE);
    expect(out1.length).toBe(FACE);
    // frame 1 of the batch of 3 is the same input as the batch of 1; kernels may differ by a rounding step
    expect(maxAbsDiff(out1, out3.subarray(FACE, 2 * FACE))).toBeLessThanOrEqual(1);
  });

  it('should keep the event loop responsive while a batch runs', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    try {
      await sut.infer(demoBatch(3, 9));
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(0);
  });

  it('should drop a batch queued behind a running one when it is aborted, without running it', async () => {
    const before = sut.stats();
    const ac = new AbortController();
    const long = sut.infer(demoBatch(4, 2));
    const queued = codeOf(sut.infer(demoBatch(1, 3), { signal: ac.signal }));
    ac.abort();
    expect(await queued).toBe('CANCELLED');
    expect((await long).length).toBe(4 * FACE);
    await sut.infer(demoBatch(1, 8)); // FIFO: by now the worker has reported what it did with the aborted one
    const after = sut.stats();
    expect(after.droppedBatches - before.droppedBatches).toBe(1);
    expect(after.batches - before.batches).toBe(2);
  });

  it('should miss the deadline of a batch that waits behind a long one', async () => {
    const long = sut.infer(demoBatch(4, 4));
    expect(await codeOf(sut.infer(demoBatch(1, 5), { deadlineMs: 20 }))).toBe('DEADLINE_EXCEEDED');
    await long;
  });

  it('should answer CANCELLED for a running batch that is aborted, and keep serving afterwards', async () => {
    const ac = new AbortController();
    const running = codeOf(sut.infer(demoBatch(2, 6), { signal: ac.signal }));
    setTimeout(() => ac.abort(), 50);
    expect(await running).toBe('CANCELLED');
    expect((await sut.infer(demoBatch(1, 7))).length).toBe(FACE);
    expect(sut.stats().inFlightBatches).toBe(0);
  });

  it('should record model-only and total time per batch', () => {
    const s = sut.stats();
    expect(s.batches).toBeGreaterThan(0);
    expect(s.modelMsTotal).toBeGreaterThan(0);
    expect(s.totalMsTotal).toBeGreaterThanOrEqual(s.modelMsTotal);
    for (const t of sut.recentTimings()) expect(t.totalMs).toBeGreaterThanOrEqual(t.modelMs);
  });
});
