import { Logger } from '@nestjs/common';
import { DelayedError, Job, Worker } from 'bullmq';
import * as fs from 'fs';
import * as path from 'path';
import { GatewayError } from '../common/errors';
import { withJobLogContext } from '../common/log-context';
import type { RedisConnections } from '../redis/redis-connections';
import type { Renderer } from '../render/render.types';
import { armDeadline, jobDeadlineMs } from './job-deadline';
import { DataLayout, tidyFinishedJobDir } from './job-files';
import { applyResult, logJobFailure, publicJobError, renderFailure, renderRequestOf } from './job-render';
import { isTerminal, JobRecord, JobStatus } from './job.types';
import type { JobsObserver } from './jobs.service';
import type { RedisJobStore } from './redis-job-store';

export interface RedisWorkerSettings {
  queueName: string;
  concurrency: number;
  maxAttempts: number;
  lockMs: number;
  dataDir: string;
  /** a job's maximum duration; 0/undefined: scaled with its audio (job-deadline.ts) */
  jobTimeoutSeconds?: number;
}

const RESULT_NAME = 'result.mp4';
const CANCEL_POLL_MS = 250;
const PROGRESS_EVERY_MS = 200;

/**
 * The render side of QUEUE=redis: a BullMQ worker that runs JOB_CONCURRENCY jobs at once.
 * At-least-once: a job whose worker died is put back by BullMQ's stalled check and runs again
 * from scratch here, at most maxAttempts times, then fails with JOB_ATTEMPTS_EXHAUSTED. Each run
 * writes its own file, renamed to result.mp4 on success, so a re-run never mixes with a dead one.
 * Cancel: a pub/sub message (and a flag polled every 250 ms) aborts the render wherever it runs.
 * Deadline (JOB_TIMEOUT_SECONDS, else scaled with the audio): aborts the render like a cancel, then
 * fails the job with DEADLINE_EXCEEDED and frees the slot, as the embedded JobsService does. Every
 * log line a job's run writes carries its id (log-context.ts).
 */
export class RedisJobWorker {
  private readonly log = new Logger(RedisJobWorker.name);
  private readonly layout: DataLayout;
  private readonly running = new Map<string, AbortController>();
  private worker?: Worker;
  private poller?: NodeJS.Timeout;
  private closing = false;

  constructor(
    private readonly redis: RedisConnections,
    private readonly store: RedisJobStore,
    private readonly renderer: Renderer,
    private readonly settings: RedisWorkerSettings,
    private readonly observer: JobsObserver = {},
    /** called once a final status is recorded (webhooks) */
    private readonly finalized: (job: JobRecord) => void = () => undefined,
  ) {
    this.layout = new DataLayout(settings.dataDir);
  }

  get active(): number {
    return this.running.size;
  }

  async start(): Promise<void> {
    await this.redis.subscriber.subscribe(this.store.cancelChannel);
    this.redis.subscriber.on('message', (channel: string, id: string) => {
      if (channel === this.store.cancelChannel) this.running.get(id)?.abort();
    });
    // pub/sub drops messages while Redis is away: the flag is the source of truth
    this.poller = setInterval(() => void this.pollCancels(), CANCEL_POLL_MS);
    this.poller.unref();
    const { lockMs } = this.settings;
    // eslint-disable-next-line @typescript-eslint/no-unsafe-argument -- bullmq's Worker callback receives Job<any>; process() checks the data
    this.worker = new Worker(this.settings.queueName, (job, token) => this.process(job, token), {
      connection: this.redis.open('worker'),
      prefix: this.redis.key('bull'),
      concurrency: this.settings.concurrency,
      lockDuration: lockMs,
      stalledInterval: Math.max(500, Math.round(lockMs / 2)),
      // our own count (stalledCounter) fails the job first, with a code, before BullMQ's limit
      maxStalledCount: this.settings.maxAttempts,
    });
    this.worker.on('error', (e) => this.log.warn(`queue worker: ${e.message}`));
  }

  /** Interrupts this worker's renders and puts their jobs back in the queue (no attempt is used up). */
  async close(): Promise<void> {
    this.closing = true;
    if (this.poller) clearInterval(this.poller);
    for (const abort of this.running.values()) abort.abort();
    await this.worker?.close();
  }

  private async pollCancels(): Promise<void> {
    try {
      for (const id of await this.store.cancelRequested([...this.running.keys()])) this.running.get(id)?.abort();
    } catch {
      // Redis away: try again on the next tick
    }
  }

  /** One job's run, with its id on every log line it writes (render, backend, ffmpeg, its webhook). */
  private process(bj: Job<{ id: string }>, token?: string): Promise<void> {
    return withJobLogContext(String(bj.data.id), () => this.runJob(bj, token));
  }

  private async runJob(bj: Job<{ id: string }>, token?: string): Promise<void> {
    const id = bj.data.id;
    const job = await this.store.get(id);
    if (!job) return; // deleted
    // finished by a run whose completion was lost: only its cleanup may be left to do
    if (isTerminal(job.status)) return tidyFinishedJobDir(this.layout.jobDir(id), job.status === 'succeeded', RESULT_NAME);
    if ((await this.store.cancelRequested([id])).length)
      return this.finish(job, 'cancelled', new GatewayError('CANCELLED', 'cancelled by the client'));
    if (bj.stalledCounter >= this.settings.maxAttempts) {
      const msg = `the job's worker stopped ${bj.stalledCounter} times (crash, out of memory); not retried again`;
      return this.finish(job, 'failed', new GatewayError('JOB_ATTEMPTS_EXHAUSTED', msg));
    }
    if (!fs.existsSync(job.input.facePath) || !fs.existsSync(job.input.audioPath)) {
      return this.finish(job, 'failed', new GatewayError('INTERNAL', 'the job inputs are gone from the shared DATA_DIR'));
    }
    const abort = new AbortController();
    this.running.set(id, abort);
    // the job's deadline aborts the render like a cancel, then reports DEADLINE_EXCEEDED
    const deadlineMs = jobDeadlineMs(this.settings.jobTimeoutSeconds, job.input.audioSeconds);
    const deadline = armDeadline(abort, deadlineMs);
    try {
      await this.execute(job, bj, abort.signal);
    } catch (err) {
      if (this.closing) {
        await this.requeue(job);
        await bj.moveToDelayed(Date.now(), token);
        throw new DelayedError();
      }
      const gw = renderFailure(err, deadline.passed(), deadlineMs);
      logJobFailure(this.log, id, gw);
      await this.finish(job, gw.code === 'CANCELLED' ? 'cancelled' : 'failed', gw);
    } finally {
      deadline.clear();
      this.running.delete(id);
    }
  }

  private async execute(job: JobRecord, bj: Job, signal: AbortSignal): Promise<void> {
    const started = Date.now();
    // A re-run starts over: the dead run's partial file is left alone (it is removed at the end).
    job.status = 'running';
    job.startedAt = new Date(started).toISOString();
    job.timings.queue ??= started - Date.parse(job.createdAt);
    job.progress = 0;
    job.framesDone = 0;
    delete job.outputStarted;
    job.renderPath = path.join(this.layout.jobDir(job.id), `render-${bj.attemptsStarted}-${process.pid}.mp4`);
    await this.store.put(job);
    let lastPut = 0;
    const result = await this.renderer.render(renderRequestOf(job, job.renderPath), {
      signal,
      onProgress: (p) => {
        job.progress = p.progress;
        job.framesDone = p.framesDone;
        job.framesTotal = p.framesTotal;
        if (Date.now() - lastPut < PROGRESS_EVERY_MS) return;
        lastPut = Date.now();
        void this.store.put(job).catch(() => undefined);
      },
      onOutputStarted: () => {
        job.outputStarted = true;
        void this.store.put(job).catch(() => undefined);
      },
    });
    const final = path.join(this.layout.jobDir(job.id), RESULT_NAME);
    await fs.promises.rename(result.outPath, final);
    applyResult(job, { ...result, outPath: final });
    await this.finish(job, 'succeeded');
  }

  /** Records the final status (on the shared store, for every API replica); keeps only a success's result. */
  private async finish(job: JobRecord, status: JobStatus, err?: GatewayError): Promise<void> {
    // A run that lost its lock (its process stalled past JOB_LOCK_MS) may end after another run
    // finished the job: that outcome stands; this run only removes its own file.
    const current = await this.store.get(job.id);
    if (!current || isTerminal(current.status)) {
      if (job.renderPath) await fs.promises.rm(job.renderPath, { force: true });
      this.log.warn(`job ${job.id}: a stale run ended (${status}) after the job was already ${current?.status ?? 'removed'}; kept that`);
      return;
    }
    job.status = status;
    job.finishedAt = new Date().toISOString();
    if (err) job.error = publicJobError(err);
    delete job.renderPath;
    // stored before the files go: a worker killed in between leaves a final record, and the re-run tidies up
    await this.store.put(job);
    await tidyFinishedJobDir(this.layout.jobDir(job.id), status === 'succeeded', RESULT_NAME);
    this.observer.jobFinished?.(status);
    this.log.log(`job ${job.id} ${status}${err ? ` (${err.code})` : ''} timings=${JSON.stringify(job.timings)}`);
    this.finalized(job);
  }

  private async requeue(job: JobRecord): Promise<void> {
    if (job.renderPath) await fs.promises.rm(job.renderPath, { force: true });
    job.status = 'queued';
    job.progress = 0;
    job.framesDone = 0;
    delete job.startedAt;
    delete job.outputStarted;
    delete job.renderPath;
    await this.store.put(job);
  }
}
