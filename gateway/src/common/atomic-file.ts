import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/**
 * Files other processes may read (replicas sharing DATA_DIR with QUEUE=redis, a restarted server)
 * appear complete or not at all: written under a unique temp name beside the target, then renamed
 * into place (atomic on one filesystem, NFS included). The temp name is unique per write, so two
 * writers of the same target (two replicas creating the same avatar) never write into one file.
 */
export function tempNameFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Writes `data` to `target` atomically; on failure nothing is left (no temp file, the old target untouched). */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempNameFor(target);
  try {
    await fs.promises.writeFile(tmp, data, { flag: 'wx' });
    await fs.promises.rename(tmp, target);
  } catch (err) {
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
}

/** Copies `from` to `to` atomically (a copy across devices, where a rename or a link cannot be used). */
export async function copyFileAtomic(from: string, to: string): Promise<void> {
  const tmp = tempNameFor(to);
  try {
    await fs.promises.copyFile(from, tmp, fs.constants.COPYFILE_EXCL);
    await fs.promises.rename(tmp, to);
  } catch (err) {
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
}
