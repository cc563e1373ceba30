import type { MilestoneName, PipelineObserver, RenderMilestones, StageName, StageTimings } from './render.types';

/** Accumulates per-stage busy time (ms). Overlapping stages each count their own time; `total` is wall time. */
export class StageClock {
  private readonly t0 = performance.now();
  private readonly acc: StageTimings = {};
  private readonly marked: RenderMilestones = {};

  constructor(private readonly observer: PipelineObserver = {}) {}

  /** ms since the clock started */
  elapsed(): number {
    return performance.now() - this.t0;
  }

  /** Records when a milestone was first reached (later calls keep the first time). */
  mark(name: MilestoneName): void {
    this.marked[name] ??= Math.round(this.elapsed() * 10) / 10;
  }

  get marks(): RenderMilestones {
    return { ...this.marked };
  }

  add(stage: StageName, ms: number): void {
    this.acc[stage] = (this.acc[stage] ?? 0) + ms;
  }

  async time<T>(stage: StageName, fn: () => Promise<T>): Promise<T> {
    const t = performance.now();
    try {
      return await fn();
    } finally {
      this.add(stage, performance.now() - t);
    }
  }

  timeSync<T>(stage: StageName, fn: () => T): T {
    const t = performance.now();
    try {
      return fn();
    } finally {
      this.add(stage, performance.now() - t);
    }
  }

  /** Rounds to 0.1 ms, sets total, reports each stage to the observer once. */
  finish(): StageTimings {
    this.acc.total = performance.now() - this.t0;
    const out: StageTimings = {};
    for (const [k, v] of Object.entries(this.acc) as [StageName, number][]) {
      out[k] = Math.round(v * 10) / 10;
      this.observer.stageDone?.(k, v);
    }
    return out;
  }
}
