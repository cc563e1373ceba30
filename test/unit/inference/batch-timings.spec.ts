import { BatchTimingRecorder } from '../../../gateway/src/inference/batch-timings';

describe(BatchTimingRecorder.name, () => {
  it('should sum model-only and total time over batches and keep the last batch', () => {
    const sut = new BatchTimingRecorder();
    sut.record({ n: 4, queueMs: 1, modelMs: 10, totalMs: 12 });
    sut.record({ n: 2, queueMs: 0, modelMs: 5, totalMs: 6 });
    expect(sut.snapshot()).toMatchObject({ batches: 2, frames: 6, modelMsTotal: 15, totalMsTotal: 18, lastBatchSize: 2, lastLatencyMs: 6 });
    expect(sut.recent().map((t) => t.n)).toEqual([4, 2]);
  });

  it('should count in-flight batches and never go below zero', () => {
    const sut = new BatchTimingRecorder();
    sut.begin();
    sut.begin();
    expect(sut.snapshot().inFlightBatches).toBe(2);
    sut.end();
    sut.end();
    sut.end();
    expect(sut.snapshot().inFlightBatches).toBe(0);
  });

  it('should keep a bounded history and notify listeners until they unsubscribe', () => {
    const sut = new BatchTimingRecorder();
    const seen: number[] = [];
    const off = sut.onBatch((t) => seen.push(t.n));
    for (let i = 1; i <= 1100; i++) sut.record({ n: i, queueMs: 0, modelMs: 1, totalMs: 1 });
    off();
    sut.record({ n: 9999, queueMs: 0, modelMs: 1, totalMs: 1 });
    expect(seen).toHaveLength(1100);
    const recent = sut.recent();
    expect(recent).toHaveLength(1024);
    // 1101 records: the oldest kept is record 1101 - 1024 + 1 = 78
    expect(recent[0].n).toBe(78);
    expect(recent[1023].n).toBe(9999);
  });
});
