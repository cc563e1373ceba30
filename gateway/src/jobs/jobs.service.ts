import { Logger } from '@nestjs/common';
import { AsyncResource } from 'async_hooks';
import { randomUUID } from 'crypto';
import { EventEmitter } from 'events';
import * as fs from 'fs';
import * as path from 'path';
import { GatewayError } from '../common/errors';
import { withJobLogContext } from '../common/log-context';
import type { Renderer } from '../render/render.types';
import { DataLayout, removeAllBut } from './job-files';
import { JobJournal, journalNeedsCompaction } from './job-journal';
import { jobDeadlineMs } from './job-deadline';
import { JobQueue } from './job-queue';
import { applyResult, logJobFailure, newJobRecord, publicJobError, renderFailure, renderRequestOf } from './job-render';
import { orphanJobDirs, rebaseReplayedJob, recoveryAction, RESULT_NAME } from './job-recovery';
import type { JobBuild, JobsDriver } from './jobs-driver';
import { isTerminal, JobInput, JobOptions, JobRecord, JobStatus } from './job.types';

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
 */
export class JobsService implements JobsDriver {
  readonly kind = 'embedded' as const;
  private readonly log = new Logger(JobsService.name);
  private readonly rootScope = new AsyncResource('lipsync-job');
  private readonly layout: DataLayout;
  private readonly journal: JobJournal;
  private readonly queue: JobQueue;
  private readonly records = new Map<string, JobRecord>();
  private readonly running = new Map<string, { abort: AbortController; done: Promise<void> }>();
  private readonly events = new EventEmitter();
  private readonly finalListeners = new Set<(job: JobRecord) => void>();
  private sweeper: NodeJS.Timeout | undefined;
  private closing = false;

  constructor(
    private readonly settings: JobsSettings,
    private readonly renderer: Renderer,
    private readonly observer: JobsObserver = {},
  ) {
    this.layout = new DataLayout(settings.dataDir);
    this.journal = new JobJournal(this.layout.journal);
    this.queue = new JobQueue(
      settings.concurrency,
      settings.queueMax,
      (id) => this.run(id),
      (d) => observer.setQueueDepth?.(d),
    );
    this.events.setMaxListeners(0);
  }

  /**
   * Replays the journal (every path re-derived from the job id), runs interrupted jobs again from
   * the start (bounded attempts), removes job folders without a record and stray uploads, starts
   * the sweeper. The rules are pure, in job-recovery.ts.
   */
  start(): void {
    this.layout.ensure();
    fs.rmSync(this.layout.uploadsDir, { recursive: true, force: true });
    fs.mkdirSync(this.layout.uploadsDir, { recursive: true });
    const replayed = [...this.journal.open().values()].sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)));
    const resume: string[] = [];
    for (const raw of replayed) {
      const job = rebaseReplayedJob(raw, this.layout);
      if (!job) {
        // never act on paths a record names itself: drop it, touch nothing
        this.log.warn(`journal record ${JSON.stringify(String(raw?.id).slice(0, 64))} dropped: its id or paths are not the server's own`);
        if (typeof raw?.id === 'string') this.journal.remove(raw.id);
        continue;
      }
      this.records.set(job.id, job);
      const next = recoveryAction(job, inputsExist(job.input));
      if (next.action === 'fail') this.finishInterrupted(job, next.message);
      else if (next.action === 'resume') {
        if (job.status === 'running') this.resetForRerun(job);
        resume.push(job.id);
      }
    }
    for (const name of orphanJobDirs(fs.readdirSync(this.layout.jobsDir), new Set(this.records.keys()))) {
      fs.rmSync(path.join(this.layout.jobsDir, name), { recursive: true, force: true });
    }
    for (const id of resume) this.queue.enqueue(id, { force: true });
    if (replayed.length) this.log.log(`restored ${this.records.size} job(s), resumed ${resume.length}`);
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
      await this.finish(job, 'cancelled', new GatewayError('CANCELLED', 'cancelled by the client'));
      return job;
    }
    const run = this.running.get(id);
    if (run) {
      run.abort.abort();
      await run.done;
    }
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
    this.events.on(id, listener);
    return () => this.events.off(id, listener);
  }

  /** Calls `listener` with every job once its final status is recorded (webhooks); returns the unsubscribe function. */
  onFinal(listener: (job: JobRecord) => void): () => void {
    this.finalListeners.add(listener);
    return () => this.finalListeners.delete(listener);
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
    this.emit(job);
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
    for (const id of this.events.eventNames()) {
      const job = this.records.get(String(id));
      if (job) this.emit(job);
    }
    const runs = [...this.running.values()];
    for (const r of runs) r.abort.abort();
    await Promise.all(runs.map((r) => r.done));
    this.journal.close();
  }

  private run(id: string): Promise<void> {
    const job = this.records.get(id);
    if (!job || job.status !== 'queued') return Promise.resolve();
    const abort = new AbortController();
    // Run in the service's own async context (not that of the request or job that started the queue),
    // and with the job id on every line the render writes (pipeline, backend, ffmpeg, its webhooks).
    const done = this.rootScope.runInAsyncScope(() => withJobLogContext(id, () => this.execute(job, abort.signal)));
    this.running.set(id, { abort, done });
    return done.finally(() => this.running.delete(id));
  }

  private async execute(job: JobRecord, outer: AbortSignal): Promise<void> {
    // the job's deadline aborts the render like a cancel, then reports DEADLINE_EXCEEDED
    const abort = new AbortController();
    const onOuter = () => abort.abort();
    outer.addEventListener('abort', onOuter, { once: true });
    const deadlineMs = jobDeadlineMs(this.settings.jobTimeoutSeconds, job.input.audioSeconds);
    let pastDeadline = false;
    const timer = setTimeout(() => {
      pastDeadline = true;
      abort.abort();
    }, deadlineMs);
    try {
      await this.executeWithin(job, abort.signal, () => pastDeadline, deadlineMs);
    } finally {
      clearTimeout(timer);
      outer.removeEventListener('abort', onOuter);
    }
  }

  private async executeWithin(job: JobRecord, signal: AbortSignal, pastDeadline: () => boolean, deadlineMs: number): Promise<void> {
    const started = Date.now();
    job.status = 'running';
    job.startedAt = new Date(started).toISOString();
    job.timings.queue = started - Date.parse(job.createdAt);
    job.attempts = (job.attempts ?? 0) + 1;
    this.journal.put(job);
    this.emit(job);
    try {
      const result = await this.renderer.render(renderRequestOf(job, path.join(job.workDir, RESULT_NAME)), {
        signal,
        onProgress: (p) => {
          job.progress = p.progress;
          job.framesDone = p.framesDone;
          job.framesTotal = p.framesTotal;
          this.emit(job);
        },
        onOutputStarted: () => {
          job.outputStarted = true;
          this.emit(job);
        },
      });
      applyResult(job, result);
      await this.finish(job, 'succeeded');
    } catch (err) {
      if (this.closing) return this.requeueInterrupted(job);
      const gw = renderFailure(err, pastDeadline(), deadlineMs);
      logJobFailure(this.log, job.id, gw);
      await this.finish(job, gw.code === 'CANCELLED' ? 'cancelled' : 'failed', gw);
    }
  }

  /** Records a final status; keeps only the result of a successful job, removes everything else. */
  private async finish(job: JobRecord, status: JobStatus, err?: GatewayError): Promise<void> {
    job.status = status;
    job.finishedAt = new Date().toISOString();
    if (err) job.error = publicJobError(err);
    if (status === 'succeeded') await removeAllBut(job.workDir, [RESULT_NAME]);
    else await fs.promises.rm(job.workDir, { recursive: true, force: true });
    this.journal.put(job);
    this.observer.jobFinished?.(status);
    this.log.log(`job ${job.id} ${status}${err ? ` (${err.code})` : ''} timings=${JSON.stringify(job.timings)}`);
    this.emit(job);
    // After the final state is on disk; listeners (webhooks) work asynchronously and must not throw here.
    for (const listener of this.finalListeners) {
      try {
        listener(job);
      } catch (e) {
        this.log.warn(`final-state listener failed for job ${job.id}: ${String(e)}`);
      }
    }
  }

  /** A render stopped by a clean shutdown: back to `queued` from scratch (journaled), so the next start runs it again. */
  private async requeueInterrupted(job: JobRecord): Promise<void> {
    this.resetForRerun(job);
    // a clean stop is not the job's fault: it does not count as an attempt
    job.attempts = Math.max(0, (job.attempts ?? 1) - 1);
    await fs.promises.rm(path.join(job.workDir, RESULT_NAME), { force: true });
    this.journal.put(job);
    this.emit(job);
  }

  /** Back to `queued` with no progress and no partial output, to run again from the start. */
  private resetForRerun(job: JobRecord): void {
    job.status = 'queued';
    job.progress = 0;
    job.framesDone = 0;
    job.framesTotal = 0;
    delete job.startedAt;
    delete job.outputStarted;
    delete job.timings.queue;
    fs.rmSync(path.join(job.workDir, RESULT_NAME), { force: true });
  }

  /** A job that cannot run after a restart: failed with JOB_INTERRUPTED and a reason, files removed. */
  private finishInterrupted(job: JobRecord, reason: string): void {
    job.status = 'failed';
    job.finishedAt = new Date().toISOString();
    job.error = { code: 'JOB_INTERRUPTED', message: reason };
    fs.rmSync(job.workDir, { recursive: true, force: true });
    this.journal.put(job);
    this.observer.jobFinished?.('failed');
  }

  private emit(job: JobRecord): void {
    this.events.emit(job.id, job);
  }
}

const shuttingDown = (jobId: string) =>
  new GatewayError('BACKEND_UNAVAILABLE', 'the server is shutting down; the job resumes when it is back', { jobId });

function inputsExist(input: JobInput): boolean {
  return fs.existsSync(input.facePath) && fs.existsSync(input.audioPath);
}
