import type { Response } from 'express';
import * as fs from 'fs';
import { GatewayError } from '../common/errors';
import type { JobsDriver } from '../jobs/jobs-driver';
import { isTerminal, JobRecord } from '../jobs/job.types';

const CHUNK = 256 * 1024;
const POLL_MS = 150;

/** Throws the 409/404 a finished-but-unusable or missing result deserves. */
export function assertResultReady(job: JobRecord, path: string): void {
  if (job.status === 'queued' || job.status === 'running') {
    throw new GatewayError('CONFLICT', `job ${job.id} is ${job.status}; its result is not ready yet`, { jobId: job.id });
  }
  if (job.status !== 'succeeded') {
    const why = job.error ? `${job.error.code}: ${job.error.message}` : job.status;
    throw new GatewayError('CONFLICT', `job ${job.id} ${job.status} and has no result (${why})`, { jobId: job.id });
  }
  if (!fs.existsSync(path)) throw new GatewayError('NOT_FOUND', `the result of job ${job.id} is gone (expired)`, { jobId: job.id });
}

/**
 * Resolves on the job's next update (close() wakes every watcher), when the client leaves, after
 * `ms`, or when `grown` fires (the file being tailed was written).
 */
function nextChange(jobs: JobsDriver, id: string, ms: number, res: Response, grown?: FileGrowth): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    const off = jobs.watch(id, done);
    const offGrown = grown?.once(done);
    res.once('close', done);
    function done() {
      clearTimeout(timer);
      off();
      offGrown?.();
      res.off('close', done);
      resolve();
    }
  });
}

/**
 * Wakes a tailing reader as soon as the renderer's ffmpeg writes to the file (inotify through
 * fs.watch), instead of at its next poll: a stream's first bytes leave when they are written.
 * Where watching fails (no inotify, file system limits) the poll alone remains.
 */
class FileGrowth {
  private readonly listeners = new Set<() => void>();
  private readonly watcher: fs.FSWatcher | undefined;
  /** written since the last read (a write between a read and the next wait must not be missed) */
  private dirty = false;

  constructor(file: string) {
    try {
      this.watcher = fs.watch(file, { persistent: false }, () => {
        this.dirty = true;
        for (const l of [...this.listeners]) l();
      });
      this.watcher.on('error', () => this.close());
    } catch {
      this.watcher = undefined;
    }
  }

  /** Call before each read: later writes wake the next wait. */
  reading(): void {
    this.dirty = false;
  }

  once(listener: () => void): () => void {
    if (this.dirty) {
      queueMicrotask(listener);
      return () => undefined;
    }
    const l = () => {
      this.listeners.delete(l);
      listener();
    };
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  close(): void {
    this.listeners.clear();
    this.watcher?.close();
  }
}

function writeChunk(res: Response, chunk: Buffer): Promise<void> {
  if (res.write(chunk)) return Promise.resolve();
  return new Promise((resolve) => {
    const go = () => {
      res.off('drain', go);
      res.off('close', go);
      resolve();
    };
    res.on('drain', go);
    res.on('close', go);
  });
}

function setStreamHeaders(res: Response, id: string): void {
  res.status(200);
  res.setHeader('Content-Type', 'video/mp4');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Job-Id', id);
}

/**
 * GET /v1/jobs/:id/stream (HEAD answers the headers at once). For a job rendered with stream=true (fragmented MP4 written in place)
 * it tails the growing file: bytes go out as they are written, and the response ends when the job
 * succeeds. Other jobs are sent whole once finished. Errors before the first byte are JSON; after
 * it, a failed job aborts the connection (a truncated MP4 must not look complete).
 */
export async function streamJobOutput(jobs: JobsDriver, id: string, res: Response): Promise<void> {
  let job = await jobs.get(id);
  let gone = false;
  res.on('close', () => (gone = true));
  if (job.status === 'failed' || job.status === 'cancelled') assertResultReady(job, '');
  if (res.req?.method === 'HEAD') {
    // Headers only: say what GET would send without waiting for (or tailing) the render.
    if (job.status === 'succeeded') assertResultReady(job, jobs.outputPath(job));
    setStreamHeaders(res, id);
    res.end();
    return;
  }
  // Wait for the first bytes (streamed jobs) or for the end (others).
  while (!gone && !isTerminal(job.status) && !(job.options.stream && job.outputStarted)) {
    if (jobs.isClosing) throw new GatewayError('BACKEND_UNAVAILABLE', 'the server is shutting down', { jobId: id });
    await nextChange(jobs, id, 1000, res);
    job = await jobs.get(id);
  }
  if (gone) return;
  if (isTerminal(job.status)) assertResultReady(job, jobs.outputPath(job));

  const file = jobs.outputPath(job);
  const fh = await fs.promises.open(file, 'r');
  const grown = isTerminal(job.status) ? undefined : new FileGrowth(file);
  try {
    setStreamHeaders(res, id);
    res.flushHeaders();
    const buf = Buffer.alloc(CHUNK);
    let pos = 0;
    for (;;) {
      if (gone) return;
      const finished = isTerminal((await jobs.get(id)).status);
      grown?.reading();
      const { bytesRead } = await fh.read(buf, 0, CHUNK, pos);
      if (bytesRead > 0) {
        pos += bytesRead;
        await writeChunk(res, Buffer.from(buf.subarray(0, bytesRead)));
        continue;
      }
      // At the current end of the file: done if the job had already finished before this read.
      if (finished) {
        if ((await jobs.get(id)).status === 'succeeded') res.end();
        else res.destroy();
        return;
      }
      // Shutting down mid-render: cut the connection (a truncated MP4 must not look complete).
      if (jobs.isClosing) {
        res.destroy();
        return;
      }
      await nextChange(jobs, id, POLL_MS, res, grown);
    }
  } finally {
    grown?.close();
    await fh.close();
  }
}
