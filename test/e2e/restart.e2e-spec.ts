import * as fs from 'fs';
import * as path from 'path';
import request from 'supertest';
import { GatewayError } from '../../gateway/src/common/errors';
import type { Renderer } from '../../gateway/src/render/render.types';
import { makeSpeech } from '../helpers/media';
import { ASTRONAUT, binaryParser, getJob, pollJob, startApp, tempDataDir } from './e2e-helpers';

// Restart semantics on the fake backend: jobs live in DATA_DIR/jobs.jsonl across app instances.
describe('restart', () => {
  it('should resume a queued job and fail the interrupted one after a restart on the same DATA_DIR', async () => {
    const dataDir = tempDataDir('restart');
    const speech = path.join(dataDir, 'speech.wav');
    await makeSpeech(speech, 1, 'Hello.');
    const env = { DATA_DIR: dataDir, INFERENCE_BACKEND: 'fake', JOB_CONCURRENCY: '1', QUEUE_MAX: '5' };

    // App A never finishes a render: the first job stays running, the second stays queued.
    const stuck = (): Renderer => ({
      render: (_req, hooks) =>
        new Promise((_resolve, reject) => hooks?.signal?.addEventListener('abort', () => reject(new GatewayError('CANCELLED', 'stopped')))),
    });
    const a = await startApp(env, { wrapRenderer: stuck });
    const first = await request(a.server).post('/v1/jobs').attach('face', ASTRONAUT).attach('audio', speech).expect(202);
    const second = await request(a.server).post('/v1/jobs').attach('face', ASTRONAUT).attach('audio', speech).expect(202);
    expect((await getJob(a.server, first.body.id)).status).toBe('running');
    expect((await getJob(a.server, second.body.id)).status).toBe('queued');
    await a.close();
    expect(fs.readFileSync(path.join(dataDir, 'jobs.jsonl'), 'utf8')).toContain(second.body.id);

    const b = await startApp(env);
    try {
      const interrupted = await getJob(b.server, first.body.id);
      expect(interrupted.status).toBe('failed');
      expect(interrupted.error).toEqual({ code: 'INTERNAL', message: 'interrupted by restart' });
      expect(fs.existsSync(path.join(dataDir, 'jobs', first.body.id))).toBe(false);

      const resumed = await pollJob(b.server, second.body.id);
      expect(resumed.status).toBe('succeeded');
      const mp4 = await request(b.server).get(`/v1/jobs/${second.body.id}/result`).buffer(true).parse(binaryParser).expect(200);
      expect(mp4.body.subarray(4, 8).toString('latin1')).toBe('ftyp');
      // The journal was compacted on start: one line per job, then the resumed job's updates.
      const lines = fs.readFileSync(path.join(dataDir, 'jobs.jsonl'), 'utf8').trim().split('\n');
      expect(lines.length).toBeLessThanOrEqual(2 + 3);
    } finally {
      await b.close();
    }
  });
});
