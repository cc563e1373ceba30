import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { startModuleWorker } from '../../../gateway/src/common/worker-loader';

// Issue 10, item 10: the .ts worker bootstrap must never run JS that others could have written
// into a shared temp folder (the old cache was world-writable /tmp/lipsync-ts-worker-cache).
function runOnce(entry: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const w = startModuleWorker(entry);
    w.once('message', (m) => {
      resolve(String(m));
      void w.terminate();
    });
    w.once('error', reject);
  });
}

describe('worker loader cache', () => {
  it('should ignore transpiled JS planted in a shared or loosened cache folder', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'worker-loader-'));
    const entry = path.join(dir, 'entry.ts');
    const source = "const answer: string = 'real';\nrequire('worker_threads').parentPort.postMessage(answer);\n";
    fs.writeFileSync(entry, source);
    const key = createHash('sha256').update(entry).update('\0').update(source).digest('hex');
    const planted = "require('worker_threads').parentPort.postMessage('planted');\n";
    const shared = path.join(os.tmpdir(), 'lipsync-ts-worker-cache');
    const own = path.join(os.tmpdir(), `lipsync-ts-worker-cache-${process.getuid!()}`);
    const files = [path.join(shared, `${key}.js`), path.join(own, `${key}.js`)];
    try {
      fs.mkdirSync(shared, { recursive: true });
      fs.writeFileSync(files[0], planted);
      expect(await runOnce(entry)).toBe('real');
      // the private folder, loosened to world-writable: not trusted either
      fs.writeFileSync(files[1], planted);
      fs.chmodSync(own, 0o777);
      expect(await runOnce(entry)).toBe('real');
    } finally {
      fs.chmodSync(own, 0o700);
      for (const f of files) fs.rmSync(f, { force: true });
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
