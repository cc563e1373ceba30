import * as fs from 'fs';
import * as path from 'path';
import request from 'supertest';
import { GatewayError } from '../../gateway/src/common/errors';
import type { Renderer } from '../../gateway/src/render/render.types';
import { makeSpeech } from '../helpers/media';
import { ASTRONAUT, binaryParser, getJob, pollJob, startApp, tempDataDir } from './e2e-helpers';

// Restart semantics on the fake backend: jobs live in DATA_DIR/jobs.jsonl across app instances.
describe('restart', () => {
  it('should resume the job a clean shutdown interrupted and the queued one, and fail a crashed one whose inputs are gone, on the same DATA_DIR', async () => {
    const dataDir = tempDataDir('restart');
    const speech = path.join(dataDir, 'speech.wav');
    await makeSpeech(speech, 1, 'Hello.');
    const env = { DATA_DIR: dataDir, INFERENCE_BACKEND: 'fake', JOB_CONCURRENCY: '1', QUEUE_MAX: '5' };
    const journal = path.join(dataDir, 'jobs.jsonl');
    const lastRecord = (id: string) =>
      fs
        .readFileSync(journal, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .filter((e) => e.job?.id === id)
        .pop().job;

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
    // The clean shutdown journaled the interrupted job back to queued, from scratch.
    expect(lastRecord(first.body.id)).toMatchObject({ status: 'queued', progress: 0 });
    expect(lastRecord(second.body.id)).toMatchObject({ status: 'queued' });
    // What a crash leaves behind: a record still marked running.
    const crashedId = '00000000-0000-4000-8000-000000000000';
    const crashed = { ...lastRecord(first.body.id), id: crashedId, status: 'running', workDir: path.join(dataDir, 'jobs', crashedId) };
    fs.appendFileSync(journal, JSON.stringify({ op: 'put', job: crashed }) + '\n');

    const b = await startApp(env);
    try {
      const interrupted = await getJob(b.server, crashedId);
      expect(interrupted.status).toBe('failed');
      // its inputs are not in its own folder (paths come from the id): it cannot run again
      expect(interrupted.error).toMatchObject({ code: 'JOB_INTERRUPTED' });

      for (const id of [first.body.id, second.body.id]) {
        const resumed = await pollJob(b.server, id);
        expect(resumed.status).toBe('succeeded');
        const mp4 = await request(b.server).get(`/v1/jobs/${id}/result`).buffer(true).parse(binaryParser).expect(200);
        expect(mp4.body.subarray(4, 8).toString('latin1')).toBe('ftyp');
      }
      // The journal was compacted on start: one line per job, then the crashed one failed and the resumed ones ran.
      const lines = fs.readFileSync(journal, 'utf8').trim().split('\n');
      expect(lines.length).toBeLessThanOrEqual(3 + 1 + 2 * 2);
    } finally {
      await b.close();
    }
  });
});
