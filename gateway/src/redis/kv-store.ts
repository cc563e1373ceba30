import type { RedisConnections } from './redis-connections';

/**
 * A small shared key-value store with expiry (idempotency keys, webhook delivery state). Memory
 * in the embedded mode (one process); Redis when QUEUE=redis, so every replica sees the same keys.
 */
export interface KeyValueStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** sets only when the key is absent; true when this call set it (the first one wins) */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  delete(key: string): Promise<void>;
}

export const KV_STORE = Symbol('KV_STORE');

export class MemoryKeyValueStore implements KeyValueStore {
  private readonly map = new Map<string, { value: string; expiresAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async get(key: string): Promise<string | undefined> {
    const e = this.map.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= this.now()) {
      this.map.delete(key);
      return undefined;
    }
    return e.value;
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    this.map.set(key, { value, expiresAt: this.now() + ttlSeconds * 1000 });
    if (this.map.size % 1024 === 0) this.prune();
  }

  async setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    if ((await this.get(key)) !== undefined) return false;
    await this.set(key, value, ttlSeconds);
    return true;
  }

  async delete(key: string): Promise<void> {
    this.map.delete(key);
  }

  private prune(): void {
    const now = this.now();
    for (const [k, e] of this.map) if (e.expiresAt <= now) this.map.delete(k);
  }
}

export class RedisKeyValueStore implements KeyValueStore {
  constructor(private readonly redis: RedisConnections) {}

  async get(key: string): Promise<string | undefined> {
    return (await this.redis.client.get(this.redis.key('kv', key))) ?? undefined;
  }

  async set(key: string, value: string, ttlSeconds: number): Promise<void> {
    await this.redis.client.set(this.redis.key('kv', key), value, 'EX', Math.max(1, Math.ceil(ttlSeconds)));
  }

  async setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    return (await this.redis.client.set(this.redis.key('kv', key), value, 'EX', Math.max(1, Math.ceil(ttlSeconds)), 'NX')) === 'OK';
  }

  async delete(key: string): Promise<void> {
    await this.redis.client.del(this.redis.key('kv', key));
  }
}
