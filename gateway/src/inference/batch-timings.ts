/** One finished batch: `modelMs` is the session run alone, `totalMs` includes queueing and thread hops. */
export interface BatchTiming {
  n: number;
  /** time between infer() and the model starting on the batch */
  queueMs: number;
  /** model-only time (e.g. ORT session.run inside the worker) */
  modelMs: number;
  /** infer() call to result */
  totalMs: number;
}

/** Backend counters for /metrics and benchmarks. */
export interface BackendStats {
  /** batches handed to the model and not finished yet (queued in the worker or running) */
  inFlightBatches: number;
  batches: number;
  frames: number;
  failedBatches: number;
  /** cancelled (or past their deadline) before the model started on them */
  droppedBatches: number;
  lastBatchSize: number;
  lastLatencyMs: number;
  /** sums over all finished batches, so a benchmark can relate render time to model-only time */
  modelMsTotal: number;
  totalMsTotal: number;
}

const HISTORY = 1024;

/** Keeps cumulative counters plus a bounded history of recent batch timings. */
export class BatchTimingRecorder {
  private readonly history: BatchTiming[] = [];
  private readonly listeners = new Set<(t: BatchTiming) => void>();
  private stats: BackendStats = {
    inFlightBatches: 0,
    batches: 0,
    frames: 0,
    failedBatches: 0,
    droppedBatches: 0,
    lastBatchSize: 0,
    lastLatencyMs: 0,
    modelMsTotal: 0,
    totalMsTotal: 0,
  };

  begin(): void {
    this.stats.inFlightBatches++;
  }

  end(): void {
    this.stats.inFlightBatches = Math.max(0, this.stats.inFlightBatches - 1);
  }

  failed(): void {
    this.stats.failedBatches++;
  }

  dropped(): void {
    this.stats.droppedBatches++;
  }

  record(t: BatchTiming): void {
    const s = this.stats;
    s.batches++;
    s.frames += t.n;
    s.lastBatchSize = t.n;
    s.lastLatencyMs = t.totalMs;
    s.modelMsTotal += t.modelMs;
    s.totalMsTotal += t.totalMs;
    this.history.push(t);
    if (this.history.length > HISTORY) this.history.shift();
    for (const l of this.listeners) l(t);
  }

  snapshot(): BackendStats {
    return { ...this.stats };
  }

  /** The most recent batch timings (at most 1024), oldest first. */
  recent(): BatchTiming[] {
    return [...this.history];
  }

  /** Calls `listener` after every finished batch (e.g. to feed Prometheus histograms); returns an unsubscribe. */
  onBatch(listener: (t: BatchTiming) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
