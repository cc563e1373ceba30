import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * DATA_DIR holds uploads, faces (biometric data), results and the job journal, and the journal
 * decides which files the server deletes and renders on replay: so it must be private to the
 * server's user (issue 10, item 3). This file owns creating and checking it.
 */

/** `$XDG_STATE_HOME/lipsync-gateway`, else `~/.local/state/lipsync-gateway` (never a shared temp folder). */
export function defaultDataDir(env: NodeJS.ProcessEnv, home: string = os.homedir()): string {
  const xdg = env.XDG_STATE_HOME;
  // the XDG spec ignores relative paths
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(home, '.local', 'state');
  return path.join(base, 'lipsync-gateway');
}

export class DataDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirError';
  }
}

/** Why an existing DATA_DIR must not be used (undefined when it is fine). Pure. */
export function dataDirProblem(
  dir: string,
  st: { uid: number; mode: number; isDirectory: boolean; isSymlink: boolean },
  uid: number,
): string | undefined {
  if (st.isSymlink) return `DATA_DIR ${dir} is a symbolic link; point DATA_DIR at the real folder`;
  if (!st.isDirectory) return `DATA_DIR ${dir} is not a directory`;
  if (uid >= 0 && st.uid !== uid)
    return `DATA_DIR ${dir} is owned by uid ${st.uid}, not by this user (uid ${uid}); use a folder of your own`;
  if (st.mode & 0o002)
    return `DATA_DIR ${dir} is world-writable (mode ${(st.mode & 0o777).toString(8)}); run chmod 700 on it or choose another folder`;
  return undefined;
}

/** File mode for everything the server writes under DATA_DIR. */
export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

/**
 * Creates DATA_DIR (0700) or checks the existing one (same owner, not world-writable, not a
 * symlink; group/other permissions are then removed). Throws DataDirError with a clear message.
 */
export function preparePrivateDataDir(dir: string): void {
  const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
  let st: fs.Stats;
  try {
    st = fs.lstatSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new DataDirError(`DATA_DIR ${dir} cannot be read: ${(err as NodeJS.ErrnoException).code}`);
    try {
      fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    } catch (e) {
      throw new DataDirError(`DATA_DIR ${dir} cannot be created: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    fs.chmodSync(dir, PRIVATE_DIR_MODE); // mkdir's mode is filtered by the umask
    return;
  }
  const problem = dataDirProblem(dir, { uid: st.uid, mode: st.mode, isDirectory: st.isDirectory(), isSymlink: st.isSymbolicLink() }, uid);
  if (problem) throw new DataDirError(`refusing to start: ${problem}`);
  if ((st.mode & 0o777) !== PRIVATE_DIR_MODE) fs.chmodSync(dir, PRIVATE_DIR_MODE);
}
