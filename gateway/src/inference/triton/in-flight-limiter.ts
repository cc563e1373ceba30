import { GatewayError } from '../../common/errors';

export type Release = () => void;

interface Waiter {
  grant: (release: Release) => void;
  fail: (err: GatewayError) => void;
}

/**
 * Bounds concurrent requests to one Triton (backpressure): at most `max` slots; extra callers wait in
 * FIFO order. A waiter leaves the queue when its signal aborts (CANCELLED) or its wait budget ends
 * (DEADLINE_EXCEEDED), so a stuck server never piles up unbounded work in the gateway.
 */
export class InFlightLimiter {
  private active = 0;
  private readonly queue: Waiter[] = [];

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new TypeError(`InFlightLimiter max must be an integer >= 1, got ${max}`);
  }

  get inFlight(): number {
    return this.active;
  }

  get waiting(): number {
    return this.queue.length;
  }

  acquire(opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Release> {
    const { signal, timeoutMs } = opts;
    if (signal?.aborted) return Promise.reject(new GatewayError('CANCELLED', 'the operation was cancelled'));
    if (this.active < this.max) {
      this.active++;
      return Promise.resolve(this.makeRelease());
    }
    return new Promise<Release>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cleanup = () => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const leave = (err: GatewayError) => {
        const i = this.queue.indexOf(waiter);
        if (i >= 0) this.queue.splice(i, 1);
        cleanup();
        reject(err);
      };
      const onAbort = () => leave(new GatewayError('CANCELLED', 'the operation was cancelled'));
      const waiter: Waiter = {
        grant: (release) => {
          cleanup();
          resolve(release);
        },
        fail: leave,
      };
      this.queue.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      if (timeoutMs !== undefined) {
        timer = setTimeout(
          () => leave(new GatewayError('DEADLINE_EXCEEDED', `no free inference slot within ${timeoutMs} ms (${this.max} in flight)`)),
          Math.max(0, timeoutMs),
        );
      }
    });
  }

  private makeRelease(): Release {
    let released = false;
    return () => {
      if (released) return; // double release must not free a second slot
      released = true;
      const next = this.queue.shift();
      if (next) next.grant(this.makeRelease()); // hand the slot over; `active` stays the same
      else this.active--;
    };
  }
}
