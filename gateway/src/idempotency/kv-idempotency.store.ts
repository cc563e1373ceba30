import type { KeyValueStore } from '../redis/kv-store';
import type { ClaimResult, IdempotencyRecord, IdempotencyStore } from './idempotency-store';

/**
 * Idempotency records in the shared key-value store (KV_STORE: Redis with QUEUE=redis), so every
 * replica agrees on a key: a claim is SET NX (the first one wins), completion overwrites it with the
 * remaining TTL, and Redis expiry does the sweeping.
 */
export class KvIdempotencyStore implements IdempotencyStore {
  constructor(private readonly kv: KeyValueStore) {}

  private key(name: string): string {
    return `idempotency:${name}`;
  }

  async claim(name: string, pending: IdempotencyRecord, now: number): Promise<ClaimResult> {
    for (let tries = 0; tries < 5; tries++) {
      if (await this.kv.setIfAbsent(this.key(name), JSON.stringify(pending), ttlSeconds(pending, now))) return { kind: 'claimed' };
      const raw = await this.kv.get(this.key(name));
      if (raw !== undefined) return { kind: 'exists', record: JSON.parse(raw) as IdempotencyRecord };
      // it expired or was released between the two calls: try again
    }
    throw new Error('could not claim an idempotency key');
  }

  async complete(name: string, record: IdempotencyRecord): Promise<void> {
    await this.kv.set(this.key(name), JSON.stringify(record), ttlSeconds(record, Date.now()));
  }

  async release(name: string): Promise<void> {
    await this.kv.delete(this.key(name));
  }

  async sweep(): Promise<number> {
    return 0; // keys expire on their own
  }
}

const ttlSeconds = (record: IdempotencyRecord, now: number): number => Math.max(1, Math.ceil((Date.parse(record.expiresAt) - now) / 1000));
