import * as path from 'path';
import { Worker, type WorkerOptions } from 'worker_threads';

/*
 * Why an eval bootstrap: a Worker can only load JavaScript. From `dist/` the worker module is the
 * .js that tsc emitted next to its parent. Under ts-jest (and other in-place TypeScript runs) only the
 * .ts source exists, so the bootstrap registers a minimal `.ts` require hook (typescript.transpileModule,
 * a devDependency; output cached in a private per-user folder of the OS temp dir) before loading it. One code path for both, and the worker stays typed TypeScript
 * rather than an unchecked code string.
 */
const BOOTSTRAP = `
const { workerData } = require('worker_threads');
const entry = workerData.__workerEntry;
if (entry.endsWith('.ts')) {
  const fs = require('fs');
  const os = require('os');
  const path = require('path');
  const crypto = require('crypto');
  const Module = require('module');
  // loading typescript costs seconds per worker, so transpiled output is cached by source hash, in
  // a folder of this user only: JS cached where others can write would run as this process
  const uid = typeof process.getuid === 'function' ? process.getuid() : 'u';
  const cacheDir = path.join(os.tmpdir(), 'lipsync-ts-worker-cache-' + uid);
  const cacheUsable = (() => {
    try {
      fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
      const st = fs.lstatSync(cacheDir);
      return st.isDirectory() && !st.isSymbolicLink() && (uid === 'u' || st.uid === uid) && (st.mode & 0o077) === 0;
    } catch { return false; }
  })();
  let ts;
  const transpile = (source, filename) => {
    const key = crypto.createHash('sha256').update(filename).update('\\0').update(source).digest('hex');
    const cached = path.join(cacheDir, key + '.js');
    if (cacheUsable) { try { return fs.readFileSync(cached, 'utf8'); } catch {} }
    ts = ts || require(require.resolve('typescript', { paths: [path.dirname(entry), process.cwd()] }));
    const compilerOptions = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true };
    const js = ts.transpileModule(source, { compilerOptions, fileName: filename }).outputText;
    if (cacheUsable) try {
      const tmp = cached + '.' + process.pid + '.' + require('worker_threads').threadId;
      fs.writeFileSync(tmp, js);
      fs.renameSync(tmp, cached);
    } catch {}
    return js;
  };
  Module._extensions['.ts'] = (mod, filename) => mod._compile(transpile(fs.readFileSync(filename, 'utf8'), filename), filename);
}
require(entry);
`;

/** The sibling module `base` with the caller's own extension (.js when compiled, .ts when run from source). */
export function siblingModule(callerFilename: string, base: string): string {
  return path.join(path.dirname(callerFilename), base + path.extname(callerFilename));
}

/** Starts a worker thread running the module at `entry` (absolute .js or .ts path). */
export function startModuleWorker(entry: string, options: WorkerOptions = {}): Worker {
  return new Worker(BOOTSTRAP, {
    ...options,
    eval: true,
    // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- worker_threads types workerData as any
    workerData: { ...(options.workerData ?? {}), __workerEntry: entry },
  });
}
