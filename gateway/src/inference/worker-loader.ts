import * as path from 'path';
import { Worker, type WorkerOptions } from 'worker_threads';

/*
 * Why an eval bootstrap: a Worker can only load JavaScript. From `dist/` the worker module is the
 * .js that tsc emitted next to its parent. Under ts-jest (and other in-place TypeScript runs) only the
 * .ts source exists, so the bootstrap registers a minimal `.ts` require hook (typescript.transpileModule,
 * a devDependency) before loading it. One code path for both, and the worker stays typed TypeScript
 * rather than an unchecked code string.
 */
const BOOTSTRAP = `
const { workerData } = require('worker_threads');
const entry = workerData.__workerEntry;
if (entry.endsWith('.ts')) {
  const fs = require('fs');
  const Module = require('module');
  const ts = require(require.resolve('typescript', { paths: [require('path').dirname(entry)] }));
  const compilerOptions = { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true };
  Module._extensions['.ts'] = (mod, filename) => {
    const out = ts.transpileModule(fs.readFileSync(filename, 'utf8'), { compilerOptions, fileName: filename });
    mod._compile(out.outputText, filename);
  };
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
    workerData: { ...(options.workerData ?? {}), __workerEntry: entry },
  });
}
