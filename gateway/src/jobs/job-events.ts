import type { Logger } from '@nestjs/common';
import { EventEmitter } from 'events';
import type { JobRecord } from './job.types';

/**
 * A driver's job notifications: per-job updates for watchers (streams, one-shot requests) and the
 * final-state listeners (webhooks). Shared by both queue drivers.
 */
export class JobEvents {
  private readonly emitter = new EventEmitter();
  private readonly finalListeners = new Set<(job: JobRecord) => void>();

  constructor(private readonly log: Logger) {
    this.emitter.setMaxListeners(0);
  }

  /** Subscribes to a job's updates; returns the unsubscribe function. */
  watch(id: string, listener: (job: JobRecord) => void): () => void {
    this.emitter.on(id, listener);
    return () => this.emitter.off(id, listener);
  }

  /** Calls `listener` with every job once its final status is recorded; returns the unsubscribe function. */
  onFinal(listener: (job: JobRecord) => void): () => void {
    this.finalListeners.add(listener);
    return () => this.finalListeners.delete(listener);
  }

  /** Tells a job's watchers about `job` (undefined: only wakes them, e.g. at shutdown). */
  emit(id: string, job: JobRecord | undefined): void {
    this.emitter.emit(id, job);
  }

  /** Ids of the jobs someone is watching. */
  watchedIds(): string[] {
    return this.emitter.eventNames().map(String);
  }

  /** Runs the final-state listeners; they work asynchronously and must not throw into the caller. */
  finalized(job: JobRecord): void {
    for (const listener of this.finalListeners) {
      try {
        listener(job);
      } catch (e) {
        this.log.warn(`final-state listener failed for job ${job.id}: ${String(e)}`);
      }
    }
  }
}
