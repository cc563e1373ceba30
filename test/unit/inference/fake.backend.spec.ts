import { GatewayError } from '../../../gateway/src/common/errors';
import { FAKE_MAX_OPEN_ROWS, FakeBackend, fakeOpenRows } from '../../../gateway/src/inference/fake.backend';
import type { Wav2LipBatch } from '../../../gateway/src/inference/inference-backend';
import { checkContract } from '../../../gateway/src/inference/model-contract';

const MEL = 80 * 16;
const FACE = 96 * 96 * 3;
const ROW = 96 * 3;

/** Face i has pixel value (row + 7*i) % 256 in every channel, so rows are distinguishable. */
function makeBatch(n: number, melValue: (i: number) => number): Wav2LipBatch {
  const mel = new Float32Array(n * MEL);
  const face = new Uint8Array(n * FACE);
  for (let i = 0; i < n; i++) {
    mel.fill(melValue(i), i * MEL, (i + 1) * MEL);
    for (let y = 0; y < 96; y++) face.fill((y + 7 * i) % 256, i * FACE + y * ROW, i * FACE + (y + 1) * ROW);
  }
  return { n, mel, face };
}

const rowOf = (out: Uint8Array, frame: number, y: number) => Array.from(out.subarray(frame * FACE + y * ROW, frame * FACE + (y + 1) * ROW));
const codeOf = async (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: unknown) => (e instanceof GatewayError ? e.code : `non-gateway: ${String(e)}`),
  );

describe(FakeBackend.name, () => {
  let sut: FakeBackend;

  beforeEach(async () => {
    sut = new FakeBackend({ maxBatch: 8 });
    await sut.start();
  });

  it('should report ready with a signature that satisfies the contract', () => {
    const r = sut.readiness();
    expect(r.ready).toBe(true);
    expect(checkContract(r.signature!)).toEqual([]);
  });

  it('should return the face unchanged for silence (mel at its floor)', async () => {
    const batch = makeBatch(2, () => -4);
    const out = await sut.infer(batch);
    expect(out).toEqual(batch.face);
  });

  it('should open the mouth (shift the lower half down) when the mel is loud, and leave the upper half alone', async () => {
    const batch = makeBatch(1, () => 4);
    const out = await sut.infer(batch);
    const open = FAKE_MAX_OPEN_ROWS;
    for (let y = 0; y < 48; y++) expect(rowOf(out, 0, y)).toEqual(rowOf(batch.face, 0, y));
    for (let y = 48; y < 48 + open; y++) expect(rowOf(out, 0, y)).toEqual(new Array(ROW).fill(0));
    expect(rowOf(out, 0, 48 + open)).toEqual(rowOf(batch.face, 0, 48));
    expect(rowOf(out, 0, 95)).toEqual(rowOf(batch.face, 0, 95 - open));
  });

  it('should treat each frame of a batch with its own mel window', async () => {
    const batch = makeBatch(3, (i) => [-4, 4, 0][i]);
    const out = await sut.infer(batch);
    expect(rowOf(out, 0, 48)).toEqual(rowOf(batch.face, 0, 48));
    expect(rowOf(out, 1, 48)).toEqual(new Array(ROW).fill(0));
    const half = FAKE_MAX_OPEN_ROWS / 2; // mel 0 is half way between -4 and 4
    expect(rowOf(out, 2, 48 + half)).toEqual(rowOf(batch.face, 2, 48));
    expect(rowOf(out, 2, 48 + half - 1)).toEqual(new Array(ROW).fill(0));
  });

  it('should be deterministic across calls', async () => {
    const batch = makeBatch(2, (i) => i - 1.3);
    expect(await sut.infer(batch)).toEqual(await sut.infer(batch));
  });

  it('should map mel energy to open rows monotonically from 0 to the maximum', () => {
    const rows = [-5, -4, -2, 0, 2, 4, 5].map((v) => fakeOpenRows(new Float32Array(MEL).fill(v)));
    expect(rows[0]).toBe(0);
    expect(rows[1]).toBe(0);
    expect(rows[rows.length - 1]).toBe(FAKE_MAX_OPEN_ROWS);
    for (let i = 1; i < rows.length; i++) expect(rows[i]).toBeGreaterThanOrEqual(rows[i - 1]);
  });

  it('should record the batch size of every call', async () => {
    await sut.infer(makeBatch(1, () => 0));
    await sut.infer(makeBatch(3, () => 0));
    expect(sut.calls).toEqual([1, 3]);
    expect(sut.stats()).toMatchObject({ batches: 2, frames: 4, lastBatchSize: 3, inFlightBatches: 0 });
  });

  it.each([
    ['a mel of the wrong length', { n: 1, mel: new Float32Array(MEL - 1), face: new Uint8Array(FACE) }],
    ['a face of the wrong length', { n: 2, mel: new Float32Array(2 * MEL), face: new Uint8Array(FACE) }],
    ['n = 0', { n: 0, mel: new Float32Array(0), face: new Uint8Array(0) }],
    ['a fractional n', { n: 1.5, mel: new Float32Array(MEL), face: new Uint8Array(FACE) }],
    ['a batch over maxBatch', { n: 9, mel: new Float32Array(9 * MEL), face: new Uint8Array(9 * FACE) }],
  ])('should fail with INFERENCE_FAILED for %s', async (_what, batch) => {
    expect(await codeOf(sut.infer(batch as Wav2LipBatch))).toBe('INFERENCE_FAILED');
    expect(sut.calls).toEqual([]);
  });

  it('should fail only the k-th call when a fault is injected', async () => {
    sut = new FakeBackend({ failOnCall: 2 });
    await sut.start();
    const b = makeBatch(1, () => 0);
    expect(await codeOf(sut.infer(b))).toBe('resolved');
    expect(await codeOf(sut.infer(b))).toBe('INFERENCE_FAILED');
    expect(await codeOf(sut.infer(b))).toBe('resolved');
    expect(sut.stats().failedBatches).toBe(1);
  });

  it('should stay not ready with the configured reason and refuse batches', async () => {
    sut = new FakeBackend({ notReadyReason: 'model warming up' });
    await sut.start();
    expect(sut.readiness()).toEqual({ ready: false, reason: 'model warming up' });
    expect(await codeOf(sut.infer(makeBatch(1, () => 0)))).toBe('BACKEND_UNAVAILABLE');
  });

  it('should refuse batches before start() and after close()', async () => {
    const fresh = new FakeBackend();
    expect(await codeOf(fresh.infer(makeBatch(1, () => 0)))).toBe('BACKEND_UNAVAILABLE');
    await sut.close();
    expect(sut.readiness().ready).toBe(false);
    expect(await codeOf(sut.infer(makeBatch(1, () => 0)))).toBe('BACKEND_UNAVAILABLE');
  });

  it('should fail with CANCELLED when the signal is already aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    expect(
      await codeOf(
        sut.infer(
          makeBatch(1, () => 0),
          { signal: ac.signal },
        ),
      ),
    ).toBe('CANCELLED');
  });

  it('should fail with CANCELLED when aborted during the artificial delay', async () => {
    sut = new FakeBackend({ delayMs: 10_000 });
    await sut.start();
    const ac = new AbortController();
    const p = codeOf(
      sut.infer(
        makeBatch(1, () => 0),
        { signal: ac.signal },
      ),
    );
    ac.abort();
    expect(await p).toBe('CANCELLED');
  });

  it('should fail with DEADLINE_EXCEEDED when the delay is longer than the deadline', async () => {
    sut = new FakeBackend({ delayMs: 10_000 });
    await sut.start();
    expect(
      await codeOf(
        sut.infer(
          makeBatch(1, () => 0),
          { deadlineMs: 5 },
        ),
      ),
    ).toBe('DEADLINE_EXCEEDED');
  });
});
