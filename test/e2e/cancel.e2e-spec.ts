import * as fs from 'fs';
import * as path from 'path';
import request from 'supertest';
import { makeSpeech } from '../helpers/media';
import { ASTRONAUT, childProcesses, getJob, pollJob, startApp, tempDataDir, TestApp } from './e2e-helpers';

// Real pipeline (onnx): cancelling must stop inference, kill the job's ffmpeg and remove its files.
describe('cancel (onnx backend)', () => {
  let t: TestApp;
  let dataDir: string;
  let speech: string;

  beforeAll(async () => {
    dataDir = tempDataDir('cancel');
    t = await startApp({ DATA_DIR: dataDir, INFERENCE_BACKEND: 'onnx', BATCH_SIZE: '2' });
    speech = path.join(dataDir, 'speech-3s.wav');
    await makeSpeech(speech, 3, 'This sentence is long enough to cancel it while it renders.');
  });
  afterAll(async () => {
    // Closing right after a cancel must be safe: the onnx worker finishes its running batch and exits
    // (terminating it mid-run used to abort the whole process).
    await t?.close();
  });

  it('should kill the running ffmpeg and remove the temp files when a running job is cancelled', async () => {
    const res = await request(t.server)
      .post('/v1/jobs')
      .attach('face', ASTRONAUT)
      .attach('audio', speech)
      .field('stream', 'true')
      .expect(202);
    const id = res.body.id;
    const workDir = path.join(dataDir, 'jobs', id);
    // Wait until frames are flowing into the encoder (75 frames in batches of 2: far from done).
    const running = await pollJob(t.server, id, (j) => j.status === 'running' && j.framesDone >= 2);
    expect(running.status).toBe('running');
    expect(running.framesDone).toBeLessThan(running.framesTotal);
    const encoders = childProcesses('ffmpeg');
    expect(encoders.length).toBeGreaterThanOrEqual(1);
    expect(fs.readdirSync(workDir).length).toBeGreaterThan(0);

    const cancelled = await request(t.server).delete(`/v1/jobs/${id}`).expect(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect(cancelled.body.error.code).toBe('CANCELLED');
    // DELETE answers once the render has stopped: the encoder is gone, and so are the job's files.
    for (const pid of encoders)
      expect(fs.existsSync(`/proc/${pid}`) && !fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')).toBe(false);
    expect(childProcesses('ffmpeg')).toEqual([]);
    expect(fs.existsSync(workDir)).toBe(false);
    expect(fs.readdirSync(path.join(dataDir, 'uploads'))).toEqual([]);

    const after = await getJob(t.server, id);
    expect(after.status).toBe('cancelled');
    expect(after.framesDone).toBeLessThan(after.framesTotal);
    await request(t.server).get(`/v1/jobs/${id}/result`).expect(409);
    // Cancelling twice is a conflict, not a second cancel.
    const again = await request(t.server).delete(`/v1/jobs/${id}`).expect(409);
    expect(again.body.error.code).toBe('CONFLICT');
    const metrics = await request(t.server).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/lipsync_jobs_total\{status="cancelled"\} 1/);
  });
});
