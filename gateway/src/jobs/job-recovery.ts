import * as path from 'path';
import type { DataLayout } from './job-files';
import type { JobRecord } from './job.types';

/**
 * Pure rules for a start after a stop or a crash (issue 10, items 3 and 7), kept apart from
 * JobsService so any queue driver can use them:
 * - every path of a replayed record is derived from its job id (a journal line cannot make the
 *   server delete or render a file outside DATA_DIR/jobs/<id>);
 * - a job the journal still shows running was interrupted by a crash: it runs again from the
 *   start, at most MAX_JOB_ATTEMPTS times in all, then fails with JOB_INTERRUPTED;
 * - job folders without a live record (a crash between mkdir and the journal line) are removed.
 */
export const MAX_JOB_ATTEMPTS = 3;

const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// server-chosen file names: randomName() (prefix-hex.ext) and result.mp4
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9]{1,8})?$/;

export const RESULT_NAME = 'result.mp4';

/** A file of the job's folder named like `p`, or undefined when `p` is not a plain server-chosen name. */
function inJobDir(workDir: string, p: unknown): string | undefined {
  if (typeof p !== 'string') return undefined;
  const name = path.basename(p);
  return SAFE_NAME.test(name) ? path.join(workDir, name) : undefined;
}

/**
 * The record with workDir, input and result paths re-derived from its id under `layout`; undefined
 * when the id is not a job id or an input is not a plain name (the record is then dropped, and
 * nothing it names is touched).
 */
export function rebaseReplayedJob(job: JobRecord, layout: DataLayout): JobRecord | undefined {
  if (typeof job?.id !== 'string' || !JOB_ID.test(job.id) || !job.input) return undefined;
  const workDir = layout.jobDir(job.id);
  const facePath = inJobDir(workDir, job.input.facePath);
  const audioPath = inJobDir(workDir, job.input.audioPath);
  if (!facePath || !audioPath) return undefined;
  const rebased: JobRecord = { ...job, workDir, input: { ...job.input, facePath, audioPath } };
  if (job.resultPath !== undefined) rebased.resultPath = path.join(workDir, RESULT_NAME);
  return rebased;
}

export type RecoveryAction = { action: 'keep' } | { action: 'resume' } | { action: 'fail'; code: 'JOB_INTERRUPTED'; message: string };

/** What to do with one replayed record at start. */
export function recoveryAction(job: JobRecord, inputsExist: boolean, maxAttempts = MAX_JOB_ATTEMPTS): RecoveryAction {
  if (job.status !== 'running' && job.status !== 'queued') return { action: 'keep' };
  if (!inputsExist) return { action: 'fail', code: 'JOB_INTERRUPTED', message: 'the job inputs were lost across a restart' };
  if (job.status === 'running' && (job.attempts ?? 1) >= maxAttempts) {
    return {
      action: 'fail',
      code: 'JOB_INTERRUPTED',
      message: `the job was interrupted ${maxAttempts} times (the server stopped while it ran)`,
    };
  }
  return { action: 'resume' };
}

/** Job folders on disk that no live record owns (names of DATA_DIR/jobs entries). */
export function orphanJobDirs(names: readonly string[], liveIds: ReadonlySet<string>): string[] {
  return names.filter((n) => !liveIds.has(n));
}
