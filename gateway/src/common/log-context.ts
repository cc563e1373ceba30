import { AsyncLocalStorage } from 'async_hooks';

/** Fields every log line written inside a job's async work carries (the pino mixin reads them). */
export interface LogContext {
  jobId?: string;
}

const storage = new AsyncLocalStorage<LogContext>();

/** Runs `fn` (and everything it starts) with the job id on every log line it writes. */
export function withJobLogContext<T>(jobId: string, fn: () => T): T {
  return storage.run({ ...storage.getStore(), jobId }, fn);
}

/** The fields of the current async context ({} outside any job). */
export function currentLogContext(): LogContext {
  return storage.getStore() ?? {};
}
