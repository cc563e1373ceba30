import * as path from 'path';
import request from 'supertest';
import { GatewayError } from '../../gateway/src/common/errors';
import type { RenderRequest, Renderer } from '../../gateway/src/render/render.types';
import { makeSpeech } from '../helpers/media';
import { ASTRONAUT, deferred, startApp, tempDataDir } from './e2e-helpers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Graceful shutdown on the fake backend: close() stops the queue first, wakes waiting requests
// (stream, one-shot) with 503, reports not-ready meanwhile, and never waits for a client.
describe('graceful shutdown', () => {
  it('should stop the queue, answer waiting requests with 503 and report not ready while closing', async () => {
    const dataDir = tempDataDir('shutdown');
    const speech = path.join(dataDir, 'speech.wav');
    await makeSpeech(speech, 1, 'Hello.');
    // Renders never finish; an aborted one only stops once `release` is resolved (a slow encoder).
    const release = deferred();
    const started: RenderRequest[] = [];
    const stuck = (): Renderer => ({
      render: (req, hooks) => {
        started.push(req);
        return new Promise((_resolve, reject) =>
          hooks?.signal?.addEventListener('abort', () => void release.promise.then(() => reject(new GatewayError('CANCELLED', 'stopped')))),
        );
      },
    });
    const t = await startApp(
      { DATA_DIR: dataDir, INFERENCE_BACKEND: 'fake', JOB_CONCURRENCY: '1', QUEUE_MAX: '5' },
      { wrapRenderer: stuck },
    );
    let closed = false;
    try {
      await request(t.server).post('/v1/jobs').attach('face', ASTRONAUT).attach('audio', speech).expect(202);
      const queued = await request(t.server).post('/v1/jobs').attach('face', ASTRONAUT).attach('audio', speech).expect(202);
      expect(queued.body.status).toBe('queued');
      // Two requests that wait for jobs which will not end: a stream and a one-shot render.
      const stream = request(t.server)
        .get(`/v1/jobs/${queued.body.id}/stream`)
        .then((r) => r);
      const oneShot = request(t.server)
        .post('/v1/lipsync')
        .attach('face', ASTRONAUT)
        .attach('audio', speech)
        .then((r) => r);
      await sleep(1000); // let both requests reach their wait

      const closing = t.close().then(() => (closed = true));
      await sleep(100);
      const ready = await request(t.server).get('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ ready: false, reason: 'shutting down' });
      for (const res of [await stream, await oneShot]) {
        expect(res.status).toBe(503);
        expect(res.body.error).toMatchObject({ code: 'BACKEND_UNAVAILABLE', jobId: expect.any(String) });
      }
      release.resolve();
      await closing;
      expect(started).toHaveLength(1); // the queued jobs never started after close() began
    } finally {
      release.resolve();
      if (!closed) await t.close().catch(() => undefined);
    }
  }, 30_000);
});
