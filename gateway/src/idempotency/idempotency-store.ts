/**
 * Where idempotency records live. One implementation today (files in DATA_DIR); the interface is
 * what a shared store (Redis, for several replicas) implements: `claim` must be atomic.
 */
export interface IdempotencyRecord {
  fingerprint: string;
  route: string;
  state: 'pending' | 'done';
  /** the job or avatar the first request created */
  resourceId?: string;
  /** the first response body, for replays whose resource is gone */
  response?: unknown;
  createdAt: string;
  expiresAt: string;
}

export type ClaimResult =
  /** nobody had this key: the caller owns it now (a pending record is stored) */
  | { kind: 'claimed' }
  /** the key is taken (pending or done) and not expired */
  | { kind: 'exists'; record: IdempotencyRecord };

export interface IdempotencyStore {
  /** Atomically stores `pending` under `name` unless a live record is there; returns that one instead. */
  claim(name: string, pending: IdempotencyRecord, now: number): Promise<ClaimResult>;
  /** Replaces the record (pending → done). */
  complete(name: string, record: IdempotencyRecord): Promise<void>;
  /** Forgets a claim whose request failed, so the key can be used again. */
  release(name: string): Promise<void>;
  /** Removes expired records and pending claims older than `pendingOlderThanMs`; returns how many. */
  sweep(now: number, pendingOlderThanMs: number): Promise<number>;
}

/** Nest token of the IdempotencyStore. */
export const IDEMPOTENCY_STORE = Symbol('IDEMPOTENCY_STORE');
