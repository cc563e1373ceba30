import type { JobInput, JobOptions, JobRecord } from './job.types';

export type MaybePromise<T> = T | Promise<T>;

/** What a job's `build` step returns: its inputs (inside workDir) and the timings spent making them. */
export type JobBuild = (workDir: string) => Promise<{ input: JobInput; timings?: JobRecord['timings'] }>;

/**
 * The job queue as the API sees it, whatever runs it: `embedded` (JobsService: in-process queue
 * and JSON-lines journal, the default) or `redis` (RedisJobsDriver: BullMQ on Redis, shared by
 * API and worker replicas). Status, progress, timings, errors and results read the same either
 * way. Reads may be synchronous (embedded) or not (redis): callers always `await` them.
 */
export interface JobsDriver {
  readonly kind: 'embedded' | 'redis';
  /** true once close() began: no new jobs, waiters have been woken */
  readonly isClosing: boolean;
  /** jobs waiting to start (cached for redis: /readyz and metrics must not wait on Redis) */
  readonly queueDepth: number;
  /** replays or connects; for workers, starts taking jobs */
  start(): MaybePromise<void>;
  /** stops admission and interrupts this process's renders (they run again later) */
  close(): Promise<void>;
  /** throws QUEUE_FULL / BACKEND_UNAVAILABLE when a new job would be refused */
  assertAccepting(): MaybePromise<void>;
  /** `extra`: record fields set at creation (the webhook to notify) */
  create(options: JobOptions, build: JobBuild, extra?: Pick<JobRecord, 'webhook'>): Promise<JobRecord>;
  /** throws NOT_FOUND */
  get(id: string): MaybePromise<JobRecord>;
  /** cancels a queued or running job wherever it runs; resolves once it is final */
  cancel(id: string): Promise<JobRecord>;
  /** resolves with the final record; CANCELLED if `signal` aborts, BACKEND_UNAVAILABLE on close */
  waitForEnd(id: string, signal?: AbortSignal): Promise<JobRecord>;
  /** the job's updates (progress, output started, final status); returns the unsubscribe function */
  watch(id: string, listener: (job: JobRecord) => void): () => void;
  /** place in the wait list (0 = next), -1 when not waiting */
  queuePosition(id: string): MaybePromise<number>;
  /** whether the queue itself is usable (redis: connected); absent = always */
  readiness?(): { ready: boolean; reason?: string };
  /** where a job's output is (it grows in place for streamed jobs) */
  outputPath(job: JobRecord): string;
}

/** Nest token of the JobsDriver chosen by QUEUE (jobs.module.ts). */
export const JOBS = Symbol('JOBS');
