import { Logger } from '@nestjs/common';
import { Queue } from 'bullmq';
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { GatewayError } from '../common/errors';
import type { RedisConnections } from '../redis/redis-connections';
import type { Renderer } from '../render/render.types';
import { JobEvents } from './job-events';
import { DataLayout, removeStaleFiles } from './job-files';
import { newJobRecord } from './job-render';
import { isTerminal, JobOptions, JobRecord } from './job.types';
import type { JobBuild, JobsDriver } from './jobs-driver';
import type { JobsObserver } from './jobs.service';
import { RedisJobStore } from './redis-job-store';
import { RedisJobWorker } from './redis-job-worker';

export interface RedisJobsSettings {
  dataDir: string;
  role: 'all' | 'api' | 'worker';
  concurrency: number;
  queueMax: number;
  resultTtlSeconds: number;
  maxAttempts: number;
  lockMs: number;
  /** a job's maximum duration; 0/undefined: scaled with its audio (job-deadline.ts) */
  jobTimeoutSeconds?: number;
  /** how long the process that records a job's final state holds the first claim on its webhook delivery (0: it does not deliver) */
  webhookLeaseMs?: number;
}

const QUEUE_NAME = 'render';
const RESULT_NAME = 'result.mp4';
const CANCEL_WAIT_MS = 15_000;
/** an upload (or URL download) untouched this long was left by a replica that died mid-request */
export const STALE_UPLOAD_MS = 3600_000;
/** how far from the head of the wait list queuePosition looks (QUEUE_MAX bounds the list anyway) */
const POSITION_SCAN_MAX = 10_000;

/**
 * QUEUE=redis: BullMQ on Redis. API replicas create jobs (record + BullMQ job), read records,
 * follow them through pub/sub and cancel them; workers (ROLE=worker|all) render them
 * (RedisJobWorker). Every replica sees the same jobs; media lives on the shared DATA_DIR.
 */
export class RedisJobsDriver implements JobsDriver {
  readonly kind = 'redis' as const;
  private readonly log = new Logger(RedisJobsDriver.name);
  private readonly layout: DataLayout;
  private readonly store: RedisJobStore;
  private readonly queue: Queue;
  private readonly worker?: RedisJobWorker;
  private readonly events = new JobEvents(this.log);
  private depth = 0;
  private timers: NodeJS.Timeout[] = [];
  private closing = false;

  constructor(
    private readonly redis: RedisConnections,
    private readonly settings: RedisJobsSettings,
    renderer: Renderer,
    private readonly observer: JobsObserver = {},
  ) {
    this.layout = new DataLayout(settings.dataDir);
    this.store = new RedisJobStore(redis, settings.resultTtlSeconds, settings.webhookLeaseMs);
    this.queue = new Queue(QUEUE_NAME, { connection: redis.open('queue'), prefix: redis.key('bull') });
    this.queue.on('error', (e) => this.log.warn(`queue: ${e.message}`));
    if (settings.role !== 'api') {
      this.worker = new RedisJobWorker(
        redis,
        this.store,
        renderer,
        { ...settings, queueName: QUEUE_NAME, dataDir: settings.dataDir },
        observer,
        (job) => this.finalized(job),
      );
    }
  }

  get isClosing(): boolean {
    return this.closing;
  }

  get queueDepth(): number {
    return this.depth;
  }

  /** Ready when Redis answers (API replicas need nothing else). */
  readiness(): { ready: boolean; reason?: string } {
    return this.redis.ready ? { ready: true } : { ready: false, reason: 'redis is not reachable' };
  }

  async start(): Promise<void> {
    this.layout.ensure();
    if (this.settings.role !== 'worker') {
      await this.redis.subscriber.subscribe(this.store.eventsChannel);
      this.redis.subscriber.on('message', (channel: string, text: string) => {
        if (channel !== this.store.eventsChannel) return;
        const job = JSON.parse(text) as JobRecord;
        this.events.emit(job.id, job);
      });
    }
    await this.worker?.start();
    const refresh = setInterval(() => void this.refreshDepth(), 1000);
    this.timers.push(refresh);
    // The shared uploads folder is not cleared at start (other replicas are mid-upload); stale files
    // go by age on every replica, expired jobs on workers.
    const every = Math.min(60, Math.max(1, this.settings.resultTtlSeconds / 4)) * 1000;
    this.timers.push(setInterval(() => void this.sweep().catch((e) => this.log.warn(`sweep failed: ${String(e)}`)), every));
    for (const t of this.timers) t.unref();
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const t of this.timers) clearInterval(t);
    // wake waiting streams / one-shot requests so their requests end now
    for (const id of this.events.watchedIds()) this.events.emit(id, undefined);
    await this.worker?.close();
    await this.queue.close().catch(() => undefined);
  }

  async assertAccepting(): Promise<void> {
    if (this.closing) throw new GatewayError('BACKEND_UNAVAILABLE', 'the server is shutting down');
    // Counted in Redis, so QUEUE_MAX holds across replicas (two racing admissions may both pass).
    const waiting = await this.queue.getWaitingCount();
    if (waiting >= this.settings.queueMax)
      throw new GatewayError('QUEUE_FULL', `the job queue is full (${this.settings.queueMax} waiting); retry later`);
  }

  async create(options: JobOptions, build: JobBuild, extra: Pick<JobRecord, 'webhook'> = {}): Promise<JobRecord> {
    await this.assertAccepting();
    const id = randomUUID();
    const workDir = this.layout.jobDir(id);
    await fs.promises.mkdir(workDir, { recursive: true });
    try {
      const job = newJobRecord(id, workDir, options, await build(workDir), extra);
      await this.store.put(job);
      try {
        await this.queue.add('render', { id }, { jobId: id, removeOnComplete: true, removeOnFail: true });
      } catch (err) {
        await this.store.remove(id);
        throw err;
      }
      void this.refreshDepth();
      return job;
    } catch (err) {
      await fs.promises.rm(workDir, { recursive: true, force: true });
      throw err;
    }
  }

  async get(id: string): Promise<JobRecord> {
    const job = await this.store.get(id);
    if (!job) throw new GatewayError('NOT_FOUND', `job ${id} does not exist (or its result expired)`, { jobId: id });
    return job;
  }

  /** A waiting job is removed from the queue here; a running one is stopped by the worker holding it. */
  async cancel(id: string): Promise<JobRecord> {
    const job = await this.get(id);
    if (isTerminal(job.status)) throw new GatewayError('CONFLICT', `job ${id} already ${job.status}`, { jobId: id });
    await this.store.requestCancel(id);
    const bj = await this.queue.getJob(id);
    const state = bj ? await bj.getState() : 'unknown';
    if (bj && (state === 'waiting' || state === 'delayed' || state === 'prioritized')) {
      // remove() refuses a job a worker has just locked: then that worker sees the flag
      const removed = await bj.remove().then(
        () => true,
        () => false,
      );
      if (removed) {
        job.status = 'cancelled';
        job.finishedAt = new Date().toISOString();
        job.error = { code: 'CANCELLED', message: 'cancelled by the client' };
        await fs.promises.rm(this.layout.jobDir(id), { recursive: true, force: true });
        await this.store.put(job);
        this.observer.jobFinished?.('cancelled');
        this.finalized(job);
        return job;
      }
    }
    return this.waitForEnd(id, AbortSignal.timeout(CANCEL_WAIT_MS)).catch(() => this.get(id));
  }

  waitForEnd(id: string, signal?: AbortSignal): Promise<JobRecord> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new GatewayError('CANCELLED', 'the client went away', { jobId: id }));
      let settled = false;
      const settle = (err: GatewayError | undefined, job?: JobRecord) => {
        if (settled) return;
        settled = true;
        off();
        clearInterval(poll);
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(job!);
      };
      const check = (job: JobRecord | undefined) => {
        if (job && isTerminal(job.status)) settle(undefined, job);
        else if (this.closing)
          settle(new GatewayError('BACKEND_UNAVAILABLE', 'the server is shutting down; the job resumes elsewhere', { jobId: id }));
      };
      const onAbort = () => settle(new GatewayError('CANCELLED', 'the client went away', { jobId: id }));
      const off = this.watch(id, check);
      // pub/sub loses messages while Redis restarts: also read the record every second
      const poll = setInterval(() => void this.get(id).then(check, (e: GatewayError) => settle(e)), 1000);
      signal?.addEventListener('abort', onAbort, { once: true });
      void this.get(id).then(check, (e: GatewayError) => settle(e));
    });
  }

  watch(id: string, listener: (job: JobRecord) => void): () => void {
    return this.events.watch(id, listener);
  }

  /** Calls `listener` with every job this process records as final (webhooks); returns the unsubscribe function. */
  onFinal(listener: (job: JobRecord) => void): () => void {
    return this.events.onFinal(listener);
  }

  /**
   * Records a change to a final job made outside the lifecycle (webhook deliveries): read, change,
   * write back and publish; false when the job is gone. Only the replica holding the delivery's
   * claim writes these, so read-modify-write does not race.
   */
  async update(id: string, change: (job: JobRecord) => void): Promise<boolean> {
    const job = await this.store.get(id);
    if (!job) return false;
    change(job);
    await this.store.put(job);
    return true;
  }

  /**
   * Place in the wait list (0 = next), -1 when not waiting. One LPOS from the tail (the next to
   * run: BullMQ pushes new jobs at the head and workers take from the tail), bounded by MAXLEN,
   * instead of reading the whole list.
   */
  async queuePosition(id: string): Promise<number> {
    const [[, len], [, index]] = (await this.redis.client
      .multi()
      .llen(this.queue.keys.wait)
      .lpos(this.queue.keys.wait, id, 'RANK', -1, 'MAXLEN', POSITION_SCAN_MAX)
      .exec()) as [[null, number], [null, number | null]];
    return index === null ? -1 : len - 1 - index;
  }

  outputPath(job: JobRecord): string {
    if (job.status === 'succeeded') return path.join(this.layout.jobDir(job.id), RESULT_NAME);
    // only the file name comes from the record; the directory is derived from the id
    return path.join(this.layout.jobDir(job.id), job.renderPath ? path.basename(job.renderPath) : RESULT_NAME);
  }

  /** Removes finished jobs older than the TTL; each one by exactly one replica (the one whose ZREM won). */
  async sweep(now = Date.now()): Promise<number> {
    await removeStaleFiles(this.layout.uploadsDir, STALE_UPLOAD_MS, now);
    if (!this.worker) return 0;
    let n = 0;
    for (const id of await this.store.finishedBefore(now - this.settings.resultTtlSeconds * 1000)) {
      if (!(await this.store.claimExpired(id))) continue;
      await fs.promises.rm(this.layout.jobDir(id), { recursive: true, force: true });
      await this.store.remove(id);
      n++;
    }
    return n;
  }

  private finalized(job: JobRecord): void {
    // after the final state is in Redis
    this.events.finalized(job);
  }

  private async refreshDepth(): Promise<void> {
    try {
      this.depth = await this.queue.getWaitingCount();
      this.observer.setQueueDepth?.(this.depth);
    } catch {
      // Redis away: keep the last value
    }
  }
}
