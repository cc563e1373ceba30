import { GatewayError } from '../common/errors';

/**
 * FIFO admission with bounded concurrency and a bounded wait list. It only orders ids: the caller
 * supplies `run` and owns the job state. `queueMax` counts waiting jobs (not the running ones).
 */
export class JobQueue {
  private readonly waiting: string[] = [];
  private readonly running = new Set<string>();
  private paused = false;

  constructor(
    private readonly concurrency: number,
    private readonly queueMax: number,
    private readonly run: (id: string) => Promise<void>,
    private readonly onDepthChange: (depth: number) => void = () => undefined,
  ) {}

  get depth(): number {
    return this.waiting.length;
  }

  get active(): number {
    return this.running.size;
  }

  /** Position in the wait list (0 = next), or -1. */
  position(id: string): number {
    return this.waiting.indexOf(id);
  }

  /** Throws QUEUE_FULL when a new job would neither start now nor fit in the wait list. */
  assertRoom(): void {
    const slotFree = !this.paused && this.running.size < this.concurrency && this.waiting.length === 0;
    if (!slotFree && this.waiting.length >= this.queueMax) {
      throw new GatewayError('QUEUE_FULL', `the job queue is full (${this.queueMax} waiting); retry later`);
    }
  }

  /** Adds a job at the end; `force` skips the length check (jobs restored after a restart were already admitted). */
  enqueue(id: string, opts: { force?: boolean } = {}): void {
    if (!opts.force) this.assertRoom();
    this.waiting.push(id);
    this.onDepthChange(this.waiting.length);
    this.pump();
  }

  /** Removes a waiting job; false when it is not waiting (running or unknown). */
  remove(id: string): boolean {
    const i = this.waiting.indexOf(id);
    if (i < 0) return false;
    this.waiting.splice(i, 1);
    this.onDepthChange(this.waiting.length);
    return true;
  }

  /** Stops starting new jobs (shutdown); waiting ids stay where they are. */
  pause(): void {
    this.paused = true;
  }

  private pump(): void {
    while (!this.paused && this.running.size < this.concurrency && this.waiting.length > 0) {
      const id = this.waiting.shift()!;
      this.onDepthChange(this.waiting.length);
      this.running.add(id);
      void this.run(id)
        .catch(() => undefined) // the runner records failures on the job; the queue only keeps going
        .finally(() => {
          this.running.delete(id);
          this.pump();
        });
    }
  }
}
