import { Logger } from '@nestjs/common';
import type { JobRecord } from '../jobs/job.types';
import { isTerminal } from '../jobs/job.types';
import { webhookDueKey } from '../jobs/redis-job-store';
import type { RedisConnections } from '../redis/redis-connections';

type MaybePromise<T> = T | Promise<T>;

/**
 * When each pending webhook delivery is due and which process makes it: timers in this process
 * for the embedded queue, a claimed schedule in Redis shared by every replica for QUEUE=redis.
 * The dispatcher (webhook-dispatcher.ts) makes the attempts and records them on the job.
 */
export interface WebhookSchedule {
  /** starts calling `deliver(id)` for each delivery that falls due (those left pending by an earlier run too) */
  start(deliver: (id: string) => Promise<void>): void;
  /** this process just recorded the job's final state, with a pending webhook: deliver now */
  begin(id: string): void;
  /** the next attempt is due at `atMs` */
  retryAt(id: string, atMs: number): MaybePromise<void>;
  /** no more attempts (delivered, failed for good, or the job is gone) */
  settled(id: string): MaybePromise<void>;
  /** stops; `interrupted`: deliveries cut short by the shutdown, to be made again (elsewhere, for Redis) */
  close(interrupted: string[]): MaybePromise<void>;
}

/** Embedded queue: one timer per pending delivery; at start, the journal's pending ones are resumed. */
export class MemoryWebhookSchedule implements WebhookSchedule {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private deliver?: (id: string) => Promise<void>;
  private closed = false;

  constructor(private readonly jobs: { list(): JobRecord[] }) {}

  start(deliver: (id: string) => Promise<void>): void {
    this.deliver = deliver;
    for (const job of this.jobs.list()) {
      if (!isTerminal(job.status) || job.webhook?.state !== 'pending') continue;
      this.retryAt(job.id, Date.parse(job.webhook.nextAttemptAt ?? '') || Date.now());
    }
  }

  begin(id: string): void {
    this.retryAt(id, Date.now());
  }

  retryAt(id: string, atMs: number): void {
    if (this.closed || !this.deliver) return;
    const deliver = this.deliver;
    clearTimeout(this.timers.get(id));
    const timer = setTimeout(
      () => {
        this.timers.delete(id);
        void deliver(id);
      },
      Math.max(0, atMs - Date.now()),
    );
    timer.unref();
    this.timers.set(id, timer);
  }

  settled(id: string): void {
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
  }

  /** What is pending stays in the journal for the next start. */
  close(): void {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}

// Claims a due delivery: moves its score past the lease, only when it is due (one replica wins).
const CLAIM = `
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if s and tonumber(s) <= tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
  return 1
end
return 0
`;

/**
 * QUEUE=redis: the job's final record and the first claim on its delivery are written in one MULTI
 * (RedisJobStore.put), so the process that recorded the final state delivers at once and nobody
 * else does while the claim lasts (a process without WEBHOOK_SECRET, such as a worker with no
 * route out, writes it due at once instead). Every replica that delivers polls the set: a delivery
 * that is due (first attempt, retry, or its claimer died and the lease expired) is claimed by
 * exactly one of them (CLAIM script) and sent with the same webhook-id and body (at-least-once;
 * receivers dedupe on webhook-id).
 */
export class RedisWebhookSchedule implements WebhookSchedule {
  private readonly log = new Logger(RedisWebhookSchedule.name);
  private readonly key: string;
  private readonly mine = new Set<string>();
  private deliver?: (id: string) => Promise<void>;
  private poller?: NodeJS.Timeout;
  private polling = false;
  private closed = false;

  constructor(
    private readonly redis: RedisConnections,
    private readonly leaseMs: number,
    private readonly pollMs = 1000,
  ) {
    this.key = webhookDueKey(redis);
  }

  start(deliver: (id: string) => Promise<void>): void {
    this.deliver = deliver;
    this.poller = setInterval(() => void this.poll(), this.pollMs);
    this.poller.unref();
    void this.poll();
  }

  begin(id: string): void {
    this.run(id); // claimed by the put that recorded the final state
  }

  async retryAt(id: string, atMs: number): Promise<void> {
    await this.redis.client.zadd(this.key, 'XX', atMs, id);
  }

  async settled(id: string): Promise<void> {
    await this.redis.client.zrem(this.key, id);
  }

  /**
   * Hands back every delivery this process claimed and has not finished (in flight or about to
   * start), due now, so another replica makes it without waiting for the lease to lapse. One that
   * was in fact recorded is settled by whoever claims it next (it is no longer pending).
   */
  async close(interrupted: string[]): Promise<void> {
    this.closed = true;
    if (this.poller) clearInterval(this.poller);
    const now = Date.now();
    const ids = new Set([...interrupted, ...this.mine]);
    await Promise.all([...ids].map((id) => this.redis.client.zadd(this.key, 'XX', now, id).catch(() => undefined)));
  }

  private run(id: string): void {
    if (this.closed || !this.deliver || this.mine.has(id)) return;
    this.mine.add(id);
    void this.deliver(id).finally(() => this.mine.delete(id));
  }

  private async poll(): Promise<void> {
    if (this.polling || this.closed) return;
    this.polling = true;
    try {
      const now = Date.now();
      for (const id of await this.redis.client.zrangebyscore(this.key, '-inf', now, 'LIMIT', 0, 50)) {
        if (this.closed) break;
        if (this.mine.has(id)) continue;
        const won = await this.redis.client.eval(CLAIM, 1, this.key, id, now, now + this.leaseMs);
        if (won === 1) this.run(id);
      }
    } catch (e) {
      if (this.redis.ready) this.log.warn(`webhook schedule: ${String(e)}`); // Redis away: the next poll tries again
    } finally {
      this.polling = false;
    }
  }
}
