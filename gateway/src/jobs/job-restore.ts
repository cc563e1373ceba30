import type { Logger } from '@nestjs/common';
import * as fs from 'fs';
import * as path from 'path';
import { type DataLayout, tidyFinishedJobDirSync } from './job-files';
import type { JobJournal } from './job-journal';
import { orphanJobDirs, rebaseReplayedJob, recoveryAction, RESULT_NAME } from './job-recovery';
import { resetForRerun } from './job-runner';
import type { JobInput, JobRecord } from './job.types';
import type { JobsObserver } from './jobs.service';

/**
 * The embedded driver's start: clears stray uploads, replays the journal into `records` (every
 * path re-derived from the job id), fails the jobs that cannot run again, puts interrupted ones
 * back to `queued` and removes job folders without a record. The rules are pure, in
 * job-recovery.ts. Returns how many records were replayed and the ids to resume, in their
 * original order.
 */
export function restoreJobs(
  layout: DataLayout,
  journal: JobJournal,
  records: Map<string, JobRecord>,
  observer: JobsObserver,
  log: Logger,
): { replayed: number; resume: string[] } {
  layout.ensure();
  fs.rmSync(layout.uploadsDir, { recursive: true, force: true });
  fs.mkdirSync(layout.uploadsDir, { recursive: true });
  const replayed = [...journal.open().values()].sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)));
  const resume: string[] = [];
  for (const raw of replayed) {
    const job = rebaseReplayedJob(raw, layout);
    if (!job) {
      // never act on paths a record names itself: drop it, touch nothing
      log.warn(`journal record ${JSON.stringify(String(raw?.id).slice(0, 64))} dropped: its id or paths are not the server's own`);
      if (typeof raw?.id === 'string') journal.remove(raw.id);
      continue;
    }
    records.set(job.id, job);
    const next = recoveryAction(job, inputsExist(job.input));
    if (next.action === 'fail') finishInterrupted(job, next.message, journal, observer);
    else if (next.action === 'resume') {
      if (job.status === 'running') resetForRerun(job);
      resume.push(job.id);
    } else tidyFinishedJobDirSync(job.workDir, job.status === 'succeeded', RESULT_NAME); // a crash may have left inputs
  }
  for (const name of orphanJobDirs(fs.readdirSync(layout.jobsDir), new Set(records.keys()))) {
    fs.rmSync(path.join(layout.jobsDir, name), { recursive: true, force: true });
  }
  return { replayed: replayed.length, resume };
}

/** A job that cannot run after a restart: failed with JOB_INTERRUPTED and a reason, files removed. */
function finishInterrupted(job: JobRecord, reason: string, journal: JobJournal, observer: JobsObserver): void {
  job.status = 'failed';
  job.finishedAt = new Date().toISOString();
  job.error = { code: 'JOB_INTERRUPTED', message: reason };
  fs.rmSync(job.workDir, { recursive: true, force: true });
  journal.put(job);
  observer.jobFinished?.('failed');
}

function inputsExist(input: JobInput): boolean {
  return fs.existsSync(input.facePath) && fs.existsSync(input.audioPath);
}
