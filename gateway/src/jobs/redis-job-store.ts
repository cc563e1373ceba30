import type { RedisConnections } from '../redis/redis-connections';
import { isTerminal, JobRecord } from './job.types';

/** Sorted set of due webhook deliveries (member: job id; score: when due, or until when claimed): webhooks/webhook-schedule.ts. */
export const webhookDueKey = (redis: RedisConnections): string => redis.key('webhook-due');

/** How long a claim on a webhook delivery lasts: one attempt's timeout plus a margin; past it, another replica takes it over. */
export const webhookLeaseMs = (attemptTimeoutMs: number): number => attemptTimeoutMs + 30_000;

/**
 * Job records in Redis (one JSON value per job, the same JobRecord the embedded journal keeps),
 * their change events (pub/sub, so any API replica can follow any job), cancel requests (a flag
 * plus a pub/sub nudge), the finished-job index the TTL sweep reads, and the due set of webhooks.
 */
export class RedisJobStore {
  constructor(
    private readonly redis: RedisConnections,
    private readonly resultTtlSeconds: number,
    /** the first claim on a final job's webhook delivery, held by the process that records the final state (0: due at once, for any replica) */
    private readonly webhookLeaseMs = 0,
  ) {}

  get eventsChannel(): string {
    return this.redis.key('job-events');
  }

  get cancelChannel(): string {
    return this.redis.key('job-cancel');
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const text = await this.redis.client.get(this.redis.key('job', id));
    return text ? (JSON.parse(text) as JobRecord) : undefined;
  }

  /**
   * Saves the record and tells every subscriber; a final record also enters the sweep index, and
   * with a pending webhook the due set, claimed by this process (NX: only the first final write
   * claims; later ones, the deliveries' own updates, leave the schedule alone).
   */
  async put(job: JobRecord): Promise<void> {
    const text = JSON.stringify(job);
    const multi = this.redis.client.multi();
    if (isTerminal(job.status)) {
      // the sweep removes it after the TTL; the key's own expiry is the backstop
      multi.set(this.redis.key('job', job.id), text, 'EX', this.resultTtlSeconds + 3600);
      multi.zadd(this.redis.key('finished'), Date.parse(job.finishedAt ?? new Date().toISOString()), job.id);
      if (job.webhook?.state === 'pending' && !job.webhook.payload && !job.webhook.attempts.length)
        multi.zadd(webhookDueKey(this.redis), 'NX', Date.now() + this.webhookLeaseMs, job.id);
    } else {
      multi.set(this.redis.key('job', job.id), text);
    }
    multi.publish(this.eventsChannel, text);
    await multi.exec();
  }

  async remove(id: string): Promise<void> {
    await this.redis.client.multi().del(this.redis.key('job', id), this.redis.key('cancel', id)).zrem(webhookDueKey(this.redis), id).exec();
  }

  async requestCancel(id: string): Promise<void> {
    await this.redis.client
      .multi()
      .set(this.redis.key('cancel', id), '1', 'EX', 24 * 3600)
      .publish(this.cancelChannel, id)
      .exec();
  }

  async cancelRequested(ids: string[]): Promise<string[]> {
    if (!ids.length) return [];
    const flags = await this.redis.client.mget(ids.map((id) => this.redis.key('cancel', id)));
    return ids.filter((_, i) => flags[i] !== null);
  }

  /** Ids of jobs finished before `beforeMs` (oldest first, at most `limit`). */
  async finishedBefore(beforeMs: number, limit = 100): Promise<string[]> {
    return this.redis.client.zrangebyscore(this.redis.key('finished'), '-inf', beforeMs, 'LIMIT', 0, limit);
  }

  /** Drops a job from the sweep index; true for the one replica whose call removed it (it deletes the files). */
  async claimExpired(id: string): Promise<boolean> {
    return (await this.redis.client.zrem(this.redis.key('finished'), id)) === 1;
  }
}
