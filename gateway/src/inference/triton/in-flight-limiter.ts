import PQueue from 'p-queue';
import { GatewayError } from '../../common/errors';

export type Release = () => void;

/**
 * Bounds concurrent requests to one Triton (backpressure): at most `max` slots, extra callers wait in
 * FIFO order (p-queue). A waiter leaves when its signal aborts (CANCELLED) or its wait budget ends
 * (DEADLINE_EXCEEDED), so a stuck server never piles up unbounded work in the gateway. p-queue 6 (the
 * last CommonJS line) cannot drop a queued task, so a waiter that left leaves a no-op behind that gives
 * its slot straight back when its turn comes.
 */
export class InFlightLimiter {
  private readonly queue: PQueue;
  private gone = 0; // no-op tasks of waiters that left, still in the queue

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new TypeError(`InFlightLimiter max must be an integer >= 1, got ${max}`);
    this.queue = new PQueue({ concurrency: max });
  }

  get inFlight(): number {
    return this.queue.pending;
  }

  get waiting(): number {
    return this.queue.size - this.gone;
  }

  acquire(opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Release> {
    const { signal, timeoutMs } = opts;
    if (signal?.aborted) return Promise.reject(new GatewayError('CANCELLED', 'the operation was cancelled'));
    return new Promise<Release>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const settle = () => {
        settled = true;
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const leave = (err: GatewayError) => {
        if (settled) return;
        settle();
        this.gone++;
        reject(err);
      };
      const onAbort = () => leave(new GatewayError('CANCELLED', 'the operation was cancelled'));
      // p-queue starts the task synchronously when a slot is free, so `settled` is set before the listeners
      void this.queue.add(
        () =>
          new Promise<void>((free) => {
            if (settled) {
              this.gone--;
              return free();
            }
            settle();
            let released = false;
            resolve(() => {
              if (released) return; // double release must not free a second slot
              released = true;
              free();
            });
          }),
      );
      if (settled) return;
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeoutMs !== undefined) {
        timer = setTimeout(
          () => leave(new GatewayError('DEADLINE_EXCEEDED', `no free inference slot within ${timeoutMs} ms (${this.max} in flight)`)),
          Math.max(0, timeoutMs),
        );
      }
    });
  }
}
