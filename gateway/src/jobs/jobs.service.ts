import { Logger } from '@nestjs/common';
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { GatewayError } from '../common/errors';
import type { Renderer } from '../render/render.types';
import { JobEvents } from './job-events';
import { DataLayout } from './job-files';
import { JobJournal, journalNeedsCompaction } from './job-journal';
import { JobQueue } from './job-queue';
import { newJobRecord } from './job-render';
import { RESULT_NAME } from './job-recovery';
import { restoreJobs } from './job-restore';
import { JobRunner } from './job-runner';
import type { JobBuild, JobsDriver } from './jobs-driver';
import { isTerminal, JobOptions, JobRecord, JobStatus } from './job.types';

export interface JobsSettings {
  dataDir: string;
  concurrency: number;
  queueMax: number;
  resultTtlSeconds: number;
  /** a job's maximum duration; 0/undefined: scaled with its audio (job-deadline.ts) */
  jobTimeoutSeconds?: number;
}

/** What the jobs service reports to metrics (MetricsService implements it). */
export interface JobsObserver {
  jobFinished?(status: JobStatus): void;
  setQueueDepth?(depth: number): void;
}

/**
 * Job lifecycle: admission (queue), running the renderer with cancel, progress and timings,
 * persistence (journal), resume after a restart, and file cleanup on every path. No Nest
 * dependency, so it can be driven directly in tests.
 *
 * Restart policy: a clean shutdown puts the jobs it interrupts back to `queued`, so the next
 * start resumes them with the waiting ones, in their original order (when their inputs still
 * exist). A record still `running` at start was left by a crash: it runs again from the start,
 * up to MAX_JOB_ATTEMPTS renders in all, then fails with JOB_INTERRUPTED (so a job that crashes
 * the process cannot crash it on every start). See job-recovery.ts.
 *
 * Admission, records, waiters and cleanup live here; the renders in job-runner.ts, the start in
 * job-restore.ts, the notifications in job-events.ts.
 */
export class JobsService implements JobsDriver {
  readonly kind = 'embedded' as const;
  private readonly log = new Logger(JobsService.name);
  private readonly layout: DataLayout;
  private readonly journal: JobJournal;
  private readonly queue: JobQueue;
  private readonly records = new Map<string, JobRecord>();
  private readonly events = new JobEvents(this.log);
  private readonly runner: JobRunner;
  private sweeper: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(
    private readonly settings: JobsSettings,
    renderer: Renderer,
    private readonly observer: JobsObserver = {},
  ) {
    this.layout = new DataLayout(settings.dataDir);
    this.journal = new JobJournal(this.layout.journal);
    this.runner = new JobRunner({
      journal: this.journal,
      renderer,
      events: this.events,
      observer,
      log: this.log,
      jobTimeoutSeconds: settings.jobTimeoutSeconds,
      isClosing: () => this.closing,
    });
    this.queue = new JobQueue(
      settings.concurrency,
      settings.queueMax,
      (id) => this.run(id),
      (d) => observer.setQueueDepth?.(d),
    );
  }

  /**
   * Replays the journal (every path re-derived from the job id), runs interrupted jobs again from
   * the start (bounded attempts), removes job folders without a record and stray uploads
   * (job-restore.ts), starts the sweeper.
   */
  start(): void {
    const { replayed, resume } = restoreJobs(this.layout, this.journal, this.records, this.observer, this.log);
    for (const id of resume) this.queue.enqueue(id, { force: true });
    if (replayed) this.log.log(`restored ${this.records.size} job(s), resumed ${resume.length}`);
    const every = Math.min(60, Math.max(1, this.settings.resultTtlSeconds / 4)) * 1000;
    this.sweeper = setInterval(() => void this.sweep().catch((e) => this.log.warn(`sweep failed: ${String(e)}`)), every);
    this.sweeper.unref();
  }

  /** Throws QUEUE_FULL when a new job would be refused (checked before uploads are moved). */
  assertAccepting(): void {
    if (this.closing) throw new GatewayError('BACKEND_UNAVAILABLE', 'the server is shutting down');
    this.queue.assertRoom();
  }

  /**
   * Creates a job: `build` fills the job's fresh directory with its inputs. On any failure the
   * directory is removed and nothing is recorded.
   */
  async create(options: JobOptions, build: JobBuild, extra: Pick<JobRecord, 'webhook'> = {}): Promise<JobRecord> {
    this.assertAccepting();
    const id = randomUUID();
    const workDir = this.layout.jobDir(id);
    await fs.promises.mkdir(workDir, { recursive: true });
    try {
      const { input, timings } = await build(workDir);
      // close() may have begun while the inputs were built: answer 503 rather than a 202 for a
      // job the closed journal would not keep
      if (this.closing) throw new GatewayError('BACKEND_UNAVAILABLE', 'the server is shutting down');
      const job = newJobRecord(id, workDir, options, { input, timings }, extra);
      this.records.set(id, job);
      this.journal.put(job);
      try {
        this.queue.enqueue(id);
      } catch (err) {
        this.records.delete(id);
        this.journal.remove(id);
        throw err;
      }
      return job;
    } catch (err) {
      await fs.promises.rm(workDir, { recursive: true, force: true });
      throw err;
    }
  }

  get(id: string): JobRecord {
    const job = this.records.get(id);
    if (!job) throw new GatewayError('NOT_FOUND', `job ${id} does not exist (or its result expired)`, { jobId: id });
    return job;
  }

  /** Cancels a queued or running job; resolves once its renderer (ffmpeg, inference) has stopped and its files are gone. */
  async cancel(id: string): Promise<JobRecord> {
    const job = this.get(id);
    if (isTerminal(job.status)) throw new GatewayError('CONFLICT', `job ${id} already ${job.status}`, { jobId: id });
    if (this.queue.remove(id)) {
      await this.runner.finish(job, 'cancelled', new GatewayError('CANCELLED', 'cancelled by the client'));
      return job;
    }
    await this.runner.stop(id);
    return job;
  }

  /**
   * Resolves with the record once the job is final; rejects with CANCELLED if `signal` aborts first,
   * and with BACKEND_UNAVAILABLE when the service closes before the job ends.
   */
  waitForEnd(id: string, signal?: AbortSignal): Promise<JobRecord> {
    const job = this.get(id);
    if (isTerminal(job.status)) return Promise.resolve(job);
    if (this.closing) return Promise.reject(shuttingDown(id));
    if (signal?.aborted) return Promise.reject(new GatewayError('CANCELLED', 'the client went away', { jobId: id }));
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        off();
        reject(new GatewayError('CANCELLED', 'the client went away', { jobId: id }));
      };
      const off = this.watch(id, (j) => {
        if (!isTerminal(j.status) && !this.closing) return;
        off();
        signal?.removeEventListener('abort', onAbort);
        if (isTerminal(j.status)) resolve(j);
        else reject(shuttingDown(id));
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** true once close() began: no new jobs, waiters have been woken. */
  get isClosing(): boolean {
    return this.closing;
  }

  /** Subscribes to a job's updates (progress, output started, final status); returns the unsubscribe function. */
  watch(id: string, listener: (job: JobRecord) => void): () => void {
    return this.events.watch(id, listener);
  }

  /** Calls `listener` with every job once its final status is recorded (webhooks); returns the unsubscribe function. */
  onFinal(listener: (job: JobRecord) => void): () => void {
    return this.events.onFinal(listener);
  }

  /** Every job record (restored ones included). */
  list(): JobRecord[] {
    return [...this.records.values()];
  }

  /** Records a change to a job made outside the lifecycle (webhook deliveries): journaled and emitted; false when the job is gone. */
  update(id: string, change: (job: JobRecord) => void): boolean {
    const job = this.records.get(id);
    if (!job) return false;
    change(job);
    this.journal.put(job);
    this.events.emit(id, job);
    return true;
  }

  /** Place in the wait list (0 = next), -1 when not waiting. */
  queuePosition(id: string): number {
    return this.queue.position(id);
  }

  /** Where a job's output is written (it grows in place for streamed jobs). */
  outputPath(job: JobRecord): string {
    return job.resultPath ?? path.join(job.workDir, RESULT_NAME);
  }

  get queueDepth(): number {
    return this.queue.depth;
  }

  /**
   * Deletes finished jobs (record, inputs, result) older than the TTL; returns how many went. Then
   * compacts the journal when it has grown far past the live records (a long-running server).
   */
  async sweep(now = Date.now()): Promise<number> {
    const ttlMs = this.settings.resultTtlSeconds * 1000;
    const expired = [...this.records.values()].filter(
      (j) => isTerminal(j.status) && j.finishedAt && Date.parse(j.finishedAt) + ttlMs <= now,
    );
    for (const job of expired) {
      this.records.delete(job.id);
      this.journal.remove(job.id);
      await fs.promises.rm(job.workDir, { recursive: true, force: true });
    }
    if (!this.closing && journalNeedsCompaction(this.journal.lineCount, this.records.size)) this.journal.compact(this.records.values());
    return expired.length;
  }

  /**
   * Stops admission and interrupts running renders, putting them back to `queued`; they resume
   * with the waiting jobs at the next start.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.sweeper) clearInterval(this.sweeper);
    this.queue.pause();
    // Wake everyone waiting on a job (streams, one-shot requests) so their requests end now.
    for (const id of this.events.watchedIds()) {
      const job = this.records.get(id);
      if (job) this.events.emit(id, job);
    }
    await this.runner.stopAll();
    this.journal.close();
  }

  private run(id: string): Promise<void> {
    const job = this.records.get(id);
    if (!job || job.status !== 'queued') return Promise.resolve();
    return this.runner.run(job);
  }
}

const shuttingDown = (jobId: string) =>
  new GatewayError('BACKEND_UNAVAILABLE', 'the server is shutting down; the job resumes when it is back', { jobId });
