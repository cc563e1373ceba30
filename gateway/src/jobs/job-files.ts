import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { copyFileAtomic } from '../common/atomic-file';

/** On-disk layout under DATA_DIR. Every name here is chosen by the server, never by a client. */
export class DataLayout {
  constructor(readonly dataDir: string) {}

  get journal(): string {
    return path.join(this.dataDir, 'jobs.jsonl');
  }
  get jobsDir(): string {
    return path.join(this.dataDir, 'jobs');
  }
  get avatarsDir(): string {
    return path.join(this.dataDir, 'avatars');
  }
  /** multer's landing zone; files are moved out (or deleted) before the request ends */
  get uploadsDir(): string {
    return path.join(this.dataDir, 'uploads');
  }
  jobDir(id: string): string {
    return path.join(this.jobsDir, id);
  }
  avatarDir(avatarId: string): string {
    return path.join(this.avatarsDir, avatarId);
  }

  ensure(): void {
    for (const d of [this.jobsDir, this.avatarsDir, this.uploadsDir]) fs.mkdirSync(d, { recursive: true });
  }
}

/** A fresh unguessable file name with a server-chosen extension. */
export function randomName(prefix: string, ext: string): string {
  return `${prefix}-${randomBytes(12).toString('hex')}.${ext}`;
}

/** Moves a file (rename, or across devices an atomic copy then unlink: `to` never exists half-written). */
export async function moveFile(from: string, to: string): Promise<void> {
  try {
    await fs.promises.rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await copyFileAtomic(from, to);
    await fs.promises.rm(from, { force: true });
  }
}

/** Gives `to` the content of `from` without moving it: a hard link (no copy, same device), else a copy. */
export async function linkOrCopy(from: string, to: string): Promise<void> {
  try {
    await fs.promises.link(from, to);
  } catch (err) {
    // ENOENT (the source is gone) is a real failure; anything else (EXDEV, EPERM, EMLINK…) falls back to a copy.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw err;
    await copyFileAtomic(from, to);
  }
}

/** Removes everything in `dir` except the named files. */
export async function removeAllBut(dir: string, keep: string[]): Promise<void> {
  const names = await fs.promises.readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => !keep.includes(n)).map((n) => fs.promises.rm(path.join(dir, n), { recursive: true, force: true })));
}

/**
 * What a final job's folder keeps: a succeeded job its result (`resultName`), any other nothing.
 * Run after the final record is stored, and again by whoever finds a final record whose cleanup a
 * crash interrupted.
 */
export async function tidyFinishedJobDir(dir: string, succeeded: boolean, resultName: string): Promise<void> {
  if (succeeded) await removeAllBut(dir, [resultName]);
  else await fs.promises.rm(dir, { recursive: true, force: true });
}

/** tidyFinishedJobDir for the (synchronous) restart of the embedded queue. */
export function tidyFinishedJobDirSync(dir: string, succeeded: boolean, resultName: string): void {
  if (!succeeded) return fs.rmSync(dir, { recursive: true, force: true });
  const names = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  for (const name of names) if (name !== resultName) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
}

/**
 * Removes the files directly in `dir` not modified for `maxAgeMs` (an upload or download grows,
 * so its mtime moves, until its request ends and it is moved out); returns how many went.
 */
export async function removeStaleFiles(dir: string, maxAgeMs: number, now = Date.now()): Promise<number> {
  let n = 0;
  for (const name of await fs.promises.readdir(dir).catch(() => [] as string[])) {
    const file = path.join(dir, name);
    const st = await fs.promises.lstat(file).catch(() => undefined);
    if (!st?.isFile() || st.mtimeMs + maxAgeMs > now) continue;
    await fs.promises.rm(file, { force: true });
    n++;
  }
  return n;
}
