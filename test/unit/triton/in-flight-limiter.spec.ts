import { GatewayError } from '../../../gateway/src/common/errors';
import { InFlightLimiter } from '../../../gateway/src/inference/triton/in-flight-limiter';
import { backoffMs, shouldRetry } from '../../../gateway/src/inference/triton/retry-policy';

const flush = () => new Promise((r) => setImmediate(r));

describe(InFlightLimiter.name, () => {
  it('should grant up to max slots and queue the rest in FIFO order', async () => {
    const sut = new InFlightLimiter(2);
    const order: number[] = [];
    const r1 = await sut.acquire();
    const r2 = await sut.acquire();
    const p3 = sut.acquire().then((r) => (order.push(3), r));
    const p4 = sut.acquire().then((r) => (order.push(4), r));
    await flush();
    expect(sut.inFlight).toBe(2);
    expect(sut.waiting).toBe(2);
    expect(order).toEqual([]);
    r1();
    r1(); // a double release frees nothing more
    const r3 = await p3;
    await flush();
    expect(order).toEqual([3]);
    expect(sut.inFlight).toBe(2);
    r2();
    (await p4)();
    r3();
    await flush(); // p-queue counts a freed slot once the task's promise has settled (microtasks later)
    expect(sut.inFlight).toBe(0);
    expect(sut.waiting).toBe(0);
  });

  it('should drop a waiter with CANCELLED when its signal aborts, and with DEADLINE_EXCEEDED when its wait budget ends', async () => {
    const sut = new InFlightLimiter(1);
    const hold = await sut.acquire();
    const ac = new AbortController();
    const cancelled = sut.acquire({ signal: ac.signal });
    const timedOut = sut.acquire({ timeoutMs: 10 });
    ac.abort();
    await expect(cancelled).rejects.toMatchObject({ code: 'CANCELLED' });
    await expect(timedOut).rejects.toBeInstanceOf(GatewayError);
    await expect(timedOut).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect(sut.waiting).toBe(0);
    hold();
    await flush();
    expect(sut.inFlight).toBe(0);
    // the slot is free again: the no-ops the two leavers left behind gave it straight back
    const next = await sut.acquire();
    expect([sut.inFlight, sut.waiting]).toEqual([1, 0]);
    next();
  });

  it('should reject a non-positive bound', () => {
    expect(() => new InFlightLimiter(0)).toThrow(TypeError);
  });
});

describe('retry-policy', () => {
  it('should grow the backoff exponentially with jitter between half and all of the ceiling, capped', () => {
    expect(backoffMs(1, 100, 2000, () => 0)).toBe(50);
    expect(backoffMs(1, 100, 2000, () => 1)).toBe(100);
    expect(backoffMs(3, 100, 2000, () => 0.5)).toBe(300);
    expect(backoffMs(10, 100, 2000, () => 1)).toBe(2000);
  });

  it('should retry only with attempts left and time for the wait plus a call before the deadline', () => {
    expect(shouldRetry({ attempt: 1, maxAttempts: 3, waitMs: 100, remainingMs: 1000 })).toBe(true);
    expect(shouldRetry({ attempt: 3, maxAttempts: 3, waitMs: 100, remainingMs: 1000 })).toBe(false);
    expect(shouldRetry({ attempt: 1, maxAttempts: 3, waitMs: 100, remainingMs: 120 })).toBe(false);
  });
});
