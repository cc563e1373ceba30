/**
 * Backoff for retrying UNAVAILABLE: exponential with "equal jitter" (half fixed, half random), so
 * gateways that lost Triton at the same moment do not reconnect in lockstep.
 */
export function backoffMs(attempt: number, baseMs = 100, maxMs = 2_000, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Whether another attempt fits: attempts left, and the backoff plus a minimal call still inside the deadline. */
export function shouldRetry(p: { attempt: number; maxAttempts: number; waitMs: number; remainingMs: number; minCallMs?: number }): boolean {
  return p.attempt < p.maxAttempts && p.waitMs + (p.minCallMs ?? 50) < p.remainingMs;
}

/** Resolves after `ms`, or rejects with the signal's abort (the caller maps it to CANCELLED). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('aborted'));
    const onAbort = () => {
      clearTimeout(timer);
      reject(new Error('aborted'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
