import type { Logger } from '@nestjs/common';
import { AsyncResource } from 'async_hooks';
import * as fs from 'fs';
import * as path from 'path';
import type { GatewayError } from '../common/errors';
import { withJobLogContext } from '../common/log-context';
import type { Renderer } from '../render/render.types';
import { armDeadline, jobDeadlineMs } from './job-deadline';
import type { JobEvents } from './job-events';
import { tidyFinishedJobDir } from './job-files';
import type { JobJournal } from './job-journal';
import { RESULT_NAME } from './job-recovery';
import { applyResult, logJobFailure, publicJobError, renderFailure, renderRequestOf } from './job-render';
import type { JobRecord, JobStatus } from './job.types';
import type { JobsObserver } from './jobs.service';

export interface JobRunnerDeps {
  journal: JobJournal;
  renderer: Renderer;
  events: JobEvents;
  observer: JobsObserver;
  log: Logger;
  /** a job's maximum duration; 0/undefined: scaled with its audio (job-deadline.ts) */
  jobTimeoutSeconds?: number;
  /** true once the service began to close: a render stopped then goes back to `queued` */
  isClosing: () => boolean;
}

/**
 * The embedded driver's renders (JobsService owns admission and the records): one job's run with
 * its deadline, progress and final state, journaled and emitted, and the file cleanup of every
 * way it ends.
 */
export class JobRunner {
  private readonly rootScope = new AsyncResource('lipsync-job');
  private readonly running = new Map<string, { abort: AbortController; done: Promise<void> }>();

  constructor(private readonly deps: JobRunnerDeps) {}

  /** Renders a queued job; resolves once it is final (or back to `queued` by a shutdown). */
  run(job: JobRecord): Promise<void> {
    const abort = new AbortController();
    // Run in the service's own async context (not that of the request or job that started the queue),
    // and with the job id on every line the render writes (pipeline, backend, ffmpeg, its webhooks).
    const done = this.rootScope.runInAsyncScope(() => withJobLogContext(job.id, () => this.execute(job, abort.signal)));
    this.running.set(job.id, { abort, done });
    return done.finally(() => this.running.delete(job.id));
  }

  /** Aborts a job's render, if it runs, and resolves once it has stopped. */
  async stop(id: string): Promise<void> {
    const run = this.running.get(id);
    if (run) {
      run.abort.abort();
      await run.done;
    }
  }

  /** Aborts every render and resolves once all have stopped. */
  async stopAll(): Promise<void> {
    const runs = [...this.running.values()];
    for (const r of runs) r.abort.abort();
    await Promise.all(runs.map((r) => r.done));
  }

  /** Records a final status; keeps only the result of a successful job, removes everything else. */
  async finish(job: JobRecord, status: JobStatus, err?: GatewayError): Promise<void> {
    job.status = status;
    job.finishedAt = new Date().toISOString();
    if (err) job.error = publicJobError(err);
    // journaled before the files go: a crash in between must not leave a 'running' record without inputs
    // (the restart would fail a job that had rendered); the restart tidies what a crash left (job-restore.ts)
    this.deps.journal.put(job);
    await tidyFinishedJobDir(job.workDir, status === 'succeeded', RESULT_NAME);
    this.deps.observer.jobFinished?.(status);
    this.deps.log.log(`job ${job.id} ${status}${err ? ` (${err.code})` : ''} timings=${JSON.stringify(job.timings)}`);
    this.deps.events.emit(job.id, job);
    // After the final state is on disk.
    this.deps.events.finalized(job);
  }

  private async execute(job: JobRecord, outer: AbortSignal): Promise<void> {
    // the job's deadline aborts the render like a cancel, then reports DEADLINE_EXCEEDED
    const abort = new AbortController();
    const onOuter = () => abort.abort();
    outer.addEventListener('abort', onOuter, { once: true });
    const deadlineMs = jobDeadlineMs(this.deps.jobTimeoutSeconds, job.input.audioSeconds);
    const deadline = armDeadline(abort, deadlineMs);
    try {
      await this.executeWithin(job, abort.signal, deadline.passed, deadlineMs);
    } finally {
      deadline.clear();
      outer.removeEventListener('abort', onOuter);
    }
  }

  private async executeWithin(job: JobRecord, signal: AbortSignal, pastDeadline: () => boolean, deadlineMs: number): Promise<void> {
    const { journal, events } = this.deps;
    const started = Date.now();
    job.status = 'running';
    job.startedAt = new Date(started).toISOString();
    job.timings.queue = started - Date.parse(job.createdAt);
    job.attempts = (job.attempts ?? 0) + 1;
    journal.put(job);
    events.emit(job.id, job);
    try {
      const result = await this.deps.renderer.render(renderRequestOf(job, path.join(job.workDir, RESULT_NAME)), {
        signal,
        onProgress: (p) => {
          job.progress = p.progress;
          job.framesDone = p.framesDone;
          job.framesTotal = p.framesTotal;
          events.emit(job.id, job);
        },
        onOutputStarted: () => {
          job.outputStarted = true;
          events.emit(job.id, job);
        },
      });
      applyResult(job, result);
      await this.finish(job, 'succeeded');
    } catch (err) {
      if (this.deps.isClosing()) return this.requeueInterrupted(job);
      const gw = renderFailure(err, pastDeadline(), deadlineMs);
      logJobFailure(this.deps.log, job.id, gw);
      await this.finish(job, gw.code === 'CANCELLED' ? 'cancelled' : 'failed', gw);
    }
  }

  /** A render stopped by a clean shutdown: back to `queued` from scratch (journaled), so the next start runs it again. */
  private async requeueInterrupted(job: JobRecord): Promise<void> {
    resetForRerun(job);
    // a clean stop is not the job's fault: it does not count as an attempt
    job.attempts = Math.max(0, (job.attempts ?? 1) - 1);
    await fs.promises.rm(path.join(job.workDir, RESULT_NAME), { force: true });
    this.deps.journal.put(job);
    this.deps.events.emit(job.id, job);
  }
}

/** Back to `queued` with no progress and no partial output, to run again from the start. */
export function resetForRerun(job: JobRecord): void {
  job.status = 'queued';
  job.progress = 0;
  job.framesDone = 0;
  job.framesTotal = 0;
  delete job.startedAt;
  delete job.outputStarted;
  delete job.timings.queue;
  fs.rmSync(path.join(job.workDir, RESULT_NAME), { force: true });
}
