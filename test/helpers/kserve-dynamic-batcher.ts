/**
 * The scheduling core of the KServe test server, shaped like Triton's dynamic batcher in front of one
 * model instance (shared/docs/triton.md): requests queue in arrival order; when the instance is free
 * it takes the queued requests that fit in `maxBatchSize` frames (FIFO, never reordering), waits until
 * the oldest of them has queued `maxQueueDelayMs` for more to join (no wait once the batch is full),
 * runs one execution of at least `execMs`, and answers each request with its own slice.
 * With `merge: false` every request is an execution of its own (a model without dynamic batching).
 * Knows nothing about gRPC or tensors: `run` gets the inputs of one execution and returns one output each.
 */
export interface BatcherOptions {
  maxBatchSize: number;
  /** Triton's max_queue_delay_microseconds, in ms (0 = take what is queued when the instance frees) */
  maxQueueDelayMs: number;
  /** floor on one execution's duration (a GPU stand-in: a fixed time per execution); 0 = the model's own time */
  execMs: number;
  /** false = one request per execution */
  merge: boolean;
}

export interface Execution {
  /** frames in the execution (the sum of its requests' n) */
  frames: number;
  requests: number;
  startNs: bigint;
  endNs: bigint;
}

export interface Answer<O> {
  output: O;
  /** ns between enqueue and the start of the execution that carried the request */
  queueNs: number;
  /** ns the execution took */
  computeNs: number;
  execution: Execution;
}

interface Queued<I, O> {
  n: number;
  input: I;
  enqueuedNs: bigint;
  resolve: (a: Answer<O>) => void;
  reject: (e: unknown) => void;
}

const nowNs = () => process.hrtime.bigint();

/**
 * How many requests from the head of the queue one execution takes: the longest prefix whose frames
 * fit in maxBatchSize (at least one: a single oversized request is the caller's to refuse beforehand).
 */
export function takeCount(sizes: readonly number[], maxBatchSize: number, merge = true): number {
  if (sizes.length === 0) return 0;
  if (!merge) return 1;
  let frames = 0;
  let k = 0;
  while (k < sizes.length && frames + sizes[k] <= maxBatchSize) frames += sizes[k++];
  return Math.max(1, k);
}

/** Concatenates per-request inputs (typed arrays of the same kind) into one batch. */
export function concatInputs<T extends Float32Array | Uint8Array>(parts: readonly T[]): T {
  if (parts.length === 1) return parts[0];
  const total = parts.reduce((a, p) => a + p.length, 0);
  const Ctor = parts[0].constructor as new (n: number) => T;
  const out = new Ctor(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Splits one execution's output into per-request slices of `counts[i] * perItem` elements, in order. */
export function sliceOutput<T extends Uint8Array | Float32Array>(out: T, counts: readonly number[], perItem: number): T[] {
  const need = counts.reduce((a, n) => a + n, 0) * perItem;
  if (out.length !== need) throw new RangeError(`execution output has ${out.length} elements, the requests need ${need}`);
  const slices: T[] = [];
  let at = 0;
  for (const n of counts) {
    slices.push(out.subarray(at, at + n * perItem) as T);
    at += n * perItem;
  }
  return slices;
}

export class DynamicBatcher<I, O> {
  private readonly queue: Queued<I, O>[] = [];
  private busy = false;
  private timer?: NodeJS.Timeout;
  /** requests waiting for an execution */
  get pending(): number {
    return this.queue.length;
  }

  constructor(
    readonly opts: BatcherOptions,
    private readonly run: (inputs: I[], frames: number) => Promise<O[]>,
    private readonly onExecution: (e: Execution) => void = () => undefined,
  ) {}

  submit(n: number, input: I): Promise<Answer<O>> {
    return new Promise<Answer<O>>((resolve, reject) => {
      this.queue.push({ n, input, enqueuedNs: nowNs(), resolve, reject });
      this.schedule();
    });
  }

  /** Stops the delay timer; queued requests stay unanswered (the server is going away). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.busy || this.queue.length === 0) return;
    const { maxBatchSize, maxQueueDelayMs, merge } = this.opts;
    const k = takeCount(
      this.queue.map((q) => q.n),
      maxBatchSize,
      merge,
    );
    const frames = this.queue.slice(0, k).reduce((a, q) => a + q.n, 0);
    const full = !merge || k < this.queue.length || frames >= maxBatchSize;
    const waitedMs = Number(nowNs() - this.queue[0].enqueuedNs) / 1e6;
    if (full || waitedMs >= maxQueueDelayMs) {
      this.close(); // a request that fills the batch ends the wait early
      return void this.dispatch(k);
    }
    if (this.timer) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.schedule();
      },
      Math.max(0, maxQueueDelayMs - waitedMs),
    );
  }

  private async dispatch(k: number): Promise<void> {
    this.busy = true;
    const batch = this.queue.splice(0, k);
    const frames = batch.reduce((a, q) => a + q.n, 0);
    const startNs = nowNs();
    try {
      const floor = this.opts.execMs > 0 ? new Promise((r) => setTimeout(r, this.opts.execMs)) : undefined;
      const [outs] = await Promise.all([
        this.run(
          batch.map((q) => q.input),
          frames,
        ),
        floor,
      ]);
      const execution: Execution = { frames, requests: batch.length, startNs, endNs: nowNs() };
      this.onExecution(execution);
      const computeNs = Number(execution.endNs - startNs);
      batch.forEach((q, i) => q.resolve({ output: outs[i], queueNs: Number(startNs - q.enqueuedNs), computeNs, execution }));
    } catch (err) {
      for (const q of batch) q.reject(err);
    } finally {
      this.busy = false;
      this.schedule();
    }
  }
}
