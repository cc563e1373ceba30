import * as fs from 'fs';
import * as path from 'path';
import request from 'supertest';
import { makeSpeech } from '../helpers/media';
import { ASTRONAUT, pollJob, startApp, tempDataDir } from './e2e-helpers';

// Issue 10, item 3: DATA_DIR is private to the server's user; a shared or foreign one is refused.
describe('private DATA_DIR', () => {
  it('should create DATA_DIR 0700 and write its journal, uploads and results 0600', async () => {
    const base = tempDataDir('private');
    const dataDir = path.join(base, 'state', 'lipsync');
    const t = await startApp({ DATA_DIR: dataDir, INFERENCE_BACKEND: 'fake' });
    try {
      expect(fs.statSync(dataDir).mode & 0o777).toBe(0o700);
      const speech = path.join(base, 'speech.wav');
      await makeSpeech(speech, 1, 'Hi.');
      const res = await request(t.server).post('/v1/jobs').attach('face', ASTRONAUT).attach('audio', speech).expect(202);
      expect((await pollJob(t.server, res.body.id)).status).toBe('succeeded');
      const modes = (dir: string): [string, number][] =>
        fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
          const p = path.join(dir, e.name);
          return e.isDirectory()
            ? [[p, fs.statSync(p).mode & 0o777] as [string, number], ...modes(p)]
            : [[p, fs.statSync(p).mode & 0o777] as [string, number]];
        });
      const all = modes(dataDir);
      expect(all.some(([p]) => p.endsWith('result.mp4'))).toBe(true);
      // nothing under DATA_DIR is readable by group or others
      expect(all.filter(([, m]) => m & 0o077)).toEqual([]);
    } finally {
      await t.close();
      fs.rmSync(base, { recursive: true, force: true });
    }
  });

  it('should refuse to start on a world-writable DATA_DIR with a clear message', async () => {
    const base = tempDataDir('open');
    fs.chmodSync(base, 0o777);
    try {
      await expect(startApp({ DATA_DIR: base, INFERENCE_BACKEND: 'fake' })).rejects.toThrow(
        /refusing to start: DATA_DIR .* is world-writable/,
      );
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
});
