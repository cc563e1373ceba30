import * as fs from 'fs';
import * as path from 'path';
import type { JobRecord, JournalEntry } from './job.types';

/**
 * Replays journal text into the latest record per job. A torn last line (crash mid-append) and
 * any line that does not parse are skipped, so a damaged journal loses one change, not the store.
 */
export function replayJournal(text: string): { jobs: Map<string, JobRecord>; skipped: number } {
  const jobs = new Map<string, JobRecord>();
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let entry: JournalEntry;
    try {
      entry = JSON.parse(line) as JournalEntry;
    } catch {
      skipped++;
      continue;
    }
    if (entry?.op === 'put' && entry.job && typeof entry.job.id === 'string') jobs.set(entry.job.id, entry.job);
    else if (entry?.op === 'del' && typeof entry.id === 'string') jobs.delete(entry.id);
    else skipped++;
  }
  return { jobs, skipped };
}

/** The compacted journal: one `put` line per live job, in creation order. */
export function compactJournal(jobs: Iterable<JobRecord>): string {
  const sorted = [...jobs].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  return sorted.map((job) => JSON.stringify({ op: 'put', job } satisfies JournalEntry) + '\n').join('');
}

/** Compaction pays off once the journal holds many more lines than live jobs (and is not tiny). */
export function journalNeedsCompaction(lines: number, liveJobs: number): boolean {
  return lines >= 64 && lines > 4 * liveJobs;
}

/**
 * Append-only JSON-lines store of job records (no native dependencies). Writes are synchronous
 * appends of whole lines: small, ordered, and on disk before the HTTP response that reports them.
 */
export class JobJournal {
  private fd: number | undefined;
  private lines = 0;

  constructor(readonly filePath: string) {}

  /** Lines in the file since it was last compacted (one per record then, one per change since). */
  get lineCount(): number {
    return this.lines;
  }

  /** Reads and compacts the journal (atomic rename), then opens it for appending. */
  open(): Map<string, JobRecord> {
    fs.mkdirSync(path.dirname(this.filePath), { recursive: true });
    const text = fs.existsSync(this.filePath) ? fs.readFileSync(this.filePath, 'utf8') : '';
    const { jobs } = replayJournal(text);
    this.rewrite(jobs.values());
    return jobs;
  }

  /**
   * Rewrites the journal as one line per live job (tmp file + atomic rename) and keeps appending
   * to the new file. Synchronous, so no append can interleave.
   */
  compact(jobs: Iterable<JobRecord>): void {
    if (this.fd === undefined) return;
    this.rewrite(jobs);
  }

  put(job: JobRecord): void {
    this.append({ op: 'put', job });
  }

  remove(id: string): void {
    this.append({ op: 'del', id });
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private rewrite(jobs: Iterable<JobRecord>): void {
    const list = [...jobs];
    const tmp = `${this.filePath}.compact`;
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      fs.writeSync(fd, compactJournal(list));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.filePath);
    // the rename itself is durable only once the directory is synced
    fsyncDir(path.dirname(this.filePath));
    this.close();
    this.fd = fs.openSync(this.filePath, 'a', 0o600);
    this.lines = list.length;
  }

  private append(entry: JournalEntry): void {
    if (this.fd === undefined) return; // closed (app shutting down): the next start replays what was written
    fs.writeSync(this.fd, JSON.stringify(entry) + '\n');
    // on disk before the caller answers (a 202 means the job survives a crash or power loss)
    fs.fsyncSync(this.fd);
    this.lines++;
  }
}

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
