import { GatewayError } from '../common/errors';

/**
 * Bounds avatar preparation (issue 10, item 2): at most `max` uploads decode and detect at once,
 * up to `maxWaiting` more wait their turn, anything beyond is 503 at once. A waiter whose client
 * went away (signal) leaves the line.
 */
export class Slots {
  private active = 0;
  private readonly waiting: { resolve: () => void; reject: (e: unknown) => void }[] = [];

  constructor(
    private readonly max: number,
    private readonly maxWaiting: number,
  ) {}

  get inUse(): number {
    return this.active;
  }

  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) throw new GatewayError('CANCELLED', 'the client went away');
    if (this.active < this.max) {
      this.active++;
      return this.releaser();
    }
    if (this.waiting.length >= this.maxWaiting) {
      throw new GatewayError('BACKEND_UNAVAILABLE', `too many avatar uploads are being prepared (${this.max} at once); retry later`);
    }
    await new Promise<void>((resolve, reject) => {
      const waiter = { resolve, reject };
      this.waiting.push(waiter);
      signal?.addEventListener(
        'abort',
        () => {
          const i = this.waiting.indexOf(waiter);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(new GatewayError('CANCELLED', 'the client went away'));
        },
        { once: true },
      );
    });
    return this.releaser();
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiting.shift();
      // hand the slot straight to the next waiter (active stays the same)
      if (next) next.resolve();
      else this.active--;
    };
  }
}
