import type { JobStatus } from '../jobs/job.types';
import type { OutboundFailure } from '../outbound/outbound-http';

/** Pure rules of webhook delivery: events, what is retried, and when. */
export type WebhookEvent = 'job.succeeded' | 'job.failed' | 'job.cancelled';

/** The event a final status sends; undefined for a status that is not final. */
export function eventFor(status: JobStatus): WebhookEvent | undefined {
  if (status === 'succeeded') return 'job.succeeded';
  if (status === 'failed') return 'job.failed';
  if (status === 'cancelled') return 'job.cancelled';
  return undefined;
}

/** What one attempt produced: an HTTP status, or an outbound failure. */
export type AttemptOutcome = { status: number } | { failure: OutboundFailure };

export const delivered = (o: AttemptOutcome): boolean => 'status' in o && o.status >= 200 && o.status < 300;

/**
 * Worth another attempt: 5xx and 429 answers, timeouts, refused or broken connections. Not: other
 * answers (4xx, 3xx: the receiver decided), a forbidden address or a bad URL (will not change).
 */
export function isRetryable(o: AttemptOutcome): boolean {
  if ('status' in o) return o.status >= 500 || o.status === 429;
  return o.failure === 'timeout' || o.failure === 'refused' || o.failure === 'unreachable';
}

/**
 * Delay before attempt `attempt + 1` after `attempt` failed (1-based): exponential from `baseMs`,
 * capped at `maxMs`, with "equal jitter" (half fixed, half random) so a burst of failures spreads out.
 */
export function retryDelayMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}
