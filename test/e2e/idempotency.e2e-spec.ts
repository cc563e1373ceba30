import * as fs from 'fs';
import * as path from 'path';
import request from 'supertest';
import { makeSpeech } from '../helpers/media';
import { ASTRONAUT, startApp, tempDataDir, TestApp } from './e2e-helpers';

// Idempotency-Key on POST /v1/jobs and /v1/avatars (fake backend; detection, probing and ffmpeg are real).
describe('Idempotency-Key', () => {
  let t: TestApp;
  let dataDir: string;
  let speech: string;
  let otherSpeech: string;
  const env = () => ({ DATA_DIR: dataDir, INFERENCE_BACKEND: 'fake', API_KEYS: 'key-a,key-b' });
  const A = { Authorization: 'Bearer key-a' };
  const B = { Authorization: 'Bearer key-b' };

  beforeAll(async () => {
    dataDir = tempDataDir('idem');
    speech = path.join(dataDir, 'speech.wav');
    otherSpeech = path.join(dataDir, 'other.wav');
    await makeSpeech(speech, 1, 'Hello.');
    await makeSpeech(otherSpeech, 1, 'Goodbye.');
    t = await startApp(env());
  });
  afterAll(() => t?.close());

  const post = (key: string | undefined, auth = A, audio = speech, fps = '25') => {
    const r = request(t.server).post('/v1/jobs').set(auth).attach('face', ASTRONAUT).attach('audio', audio).field('fps', fps);
    return key ? r.set('Idempotency-Key', key) : r;
  };
  const jobCount = () => fs.readdirSync(path.join(dataDir, 'jobs')).length;

  it('should answer a repeat with the original job (same id, 200) and create nothing new', async () => {
    const first = await post('job-key-1');
    expect(first.status).toBe(202);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const count = jobCount();
    const again = await post('job-key-1');
    expect(again.status).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    expect(jobCount()).toBe(count);
  });

  it('should refuse the same key with a different request with 422 IDEMPOTENCY_MISMATCH', async () => {
    await post('job-key-2').expect(202);
    const fields = await post('job-key-2', A, speech, '30');
    expect(fields.status).toBe(422);
    expect(fields.body.error.code).toBe('IDEMPOTENCY_MISMATCH');
    const file = await post('job-key-2', A, otherSpeech);
    expect(file.body.error.code).toBe('IDEMPOTENCY_MISMATCH');
    // keys are per API key: key-b may use the same key for its own job
    const other = await post('job-key-2', B);
    expect(other.status).toBe(202);
  });

  it('should create exactly one job for concurrent duplicates', async () => {
    const count = jobCount();
    const res = await Promise.all([1, 2, 3].map(() => post('job-key-3')));
    expect(new Set(res.map((r) => r.body.id)).size).toBe(1);
    expect(res.map((r) => r.status).sort()).toEqual([200, 200, 202]);
    expect(jobCount()).toBe(count + 1);
  });

  it('should not remember a refused first request, and refuse a malformed key', async () => {
    const text = path.join(dataDir, 'notes.txt');
    fs.writeFileSync(text, 'not audio at all');
    expect((await post('job-key-4', A, text)).status).toBe(415);
    expect((await post('job-key-4')).status).toBe(202);
    const bad = await post('x'.repeat(256));
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/Idempotency-Key/);
  });

  it('should replay an avatar creation and refuse a different file under the same key', async () => {
    const first = await request(t.server).post('/v1/avatars').set(A).set('Idempotency-Key', 'avatar-key').attach('file', ASTRONAUT);
    expect(first.status).toBe(201);
    const again = await request(t.server).post('/v1/avatars').set(A).set('Idempotency-Key', 'avatar-key').attach('file', ASTRONAUT);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const flipped = path.join(dataDir, 'flipped.png');
    fs.copyFileSync(ASTRONAUT, flipped);
    fs.appendFileSync(flipped, Buffer.from([0])); // different bytes, same picture
    const mismatch = await request(t.server).post('/v1/avatars').set(A).set('Idempotency-Key', 'avatar-key').attach('file', flipped);
    expect(mismatch.status).toBe(422);
    expect(mismatch.body.error.code).toBe('IDEMPOTENCY_MISMATCH');
  });

  it('should keep its records across a restart (DATA_DIR/idempotency)', async () => {
    const first = await post('job-key-restart');
    expect(first.status).toBe(202);
    await t.close();
    t = await startApp(env());
    const again = await post('job-key-restart');
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    const records = fs.readdirSync(path.join(dataDir, 'idempotency'));
    expect(records.every((n) => /^[a-f0-9]{64}\.json$/.test(n))).toBe(true);
    expect(records.join()).not.toContain('job-key');
  });
});
