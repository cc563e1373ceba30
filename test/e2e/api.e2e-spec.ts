import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import request from 'supertest';
import type { Renderer } from '../../gateway/src/render/render.types';
import { makeSpeech } from '../helpers/media';
import { ASTRONAUT, binaryParser, getJob, pollJob, startApp, tempDataDir, TestApp } from './e2e-helpers';

// HTTP semantics (auth, validation, limits, queue, one-shot, OpenAPI) on the fake inference backend;
// face detection, audio probing, espeak-ng and ffmpeg are real.
const KEY = { Authorization: 'Bearer key-one' };

/** POST /v1/lipsync with the portrait and "Hi.", expecting the finished MP4 (200). */
function lipsyncHi(server: TestApp['server']) {
  return request(server)
    .post('/v1/lipsync')
    .set(KEY)
    .attach('face', ASTRONAUT)
    .field('text', 'Hi.')
    .buffer(true)
    .parse(binaryParser)
    .expect(200);
}

function expectError(res: request.Response, status: number, code: string): void {
  expect(res.status).toBe(status);
  expect(res.body).toEqual({ error: expect.objectContaining({ code, message: expect.any(String) }) });
  expect(Object.keys(res.body.error).sort()).toEqual(res.body.error.jobId ? ['code', 'jobId', 'message'] : ['code', 'message']);
  expect(JSON.stringify(res.body)).not.toMatch(/\n\s+at |\.ts:\d+/); // no stack traces
}

describe('REST API (fake backend)', () => {
  let t: TestApp;
  let dataDir: string;
  let speech: string;
  let tone: string;
  let noFace: string;
  let holding = false;

  // Renders wait while `holding` is set, so a job can be kept running on purpose.
  const holdable = (real: Renderer): Renderer => ({
    render: async (req, hooks) => {
      while (holding && !hooks?.signal?.aborted) await new Promise((r) => setTimeout(r, 20));
      return real.render(req, hooks);
    },
  });

  beforeAll(async () => {
    dataDir = tempDataDir('api');
    t = await startApp(
      {
        DATA_DIR: dataDir,
        INFERENCE_BACKEND: 'fake',
        API_KEYS: 'key-one, key-two',
        MAX_UPLOAD_BYTES: '2000000',
        MAX_AUDIO_SECONDS: '2',
        JOB_CONCURRENCY: '1',
        QUEUE_MAX: '1',
      },
      { wrapRenderer: holdable },
    );
    speech = path.join(dataDir, 'speech.wav');
    await makeSpeech(speech, 1, 'Hello.');
    tone = path.join(dataDir, 'tone-3s.wav');
    noFace = path.join(dataDir, 'gray.png');
    const ff = (args: string[]) => execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
    ff(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=3', tone]);
    ff(['-f', 'lavfi', '-i', 'color=c=gray:s=256x256', '-frames:v', '1', noFace]);
  });
  afterAll(() => t?.close());

  it('should require an API key on /v1 routes only (401 UNAUTHORIZED)', async () => {
    expectError(await request(t.server).get('/v1/avatars'), 401, 'UNAUTHORIZED');
    expectError(await request(t.server).get('/v1/avatars').set('Authorization', 'Bearer nope'), 401, 'UNAUTHORIZED');
    expectError(await request(t.server).post('/v1/jobs').attach('face', ASTRONAUT), 401, 'UNAUTHORIZED');
    await request(t.server).get('/v1/avatars').set(KEY).expect(200);
    await request(t.server).get('/v1/avatars').set('X-API-Key', 'key-two').expect(200);
    await request(t.server).get('/healthz').expect(200);
    const ready = await request(t.server).get('/readyz').expect(200);
    expect(ready.body).toMatchObject({ ready: true, backend: 'fake' });
    await request(t.server).get('/metrics').expect(200);
  });

  it('should refuse malformed requests with 400 VALIDATION_FAILED', async () => {
    expectError(await request(t.server).post('/v1/jobs').set(KEY).field('text', 'hi'), 400, 'VALIDATION_FAILED');
    expectError(
      await request(t.server).post('/v1/jobs').set(KEY).attach('face', ASTRONAUT).attach('audio', speech).field('evil', '1'),
      400,
      'VALIDATION_FAILED',
    );
    const badFps = await request(t.server).post('/v1/jobs').set(KEY).attach('face', ASTRONAUT).attach('audio', speech).field('fps', 'abc');
    expectError(badFps, 400, 'VALIDATION_FAILED');
    expect(badFps.body.error.message).toMatch(/fps/);
    expectError(
      await request(t.server).post('/v1/jobs').set(KEY).attach('face', ASTRONAUT).attach('audio', speech).field('box', '1,2,3'),
      400,
      'VALIDATION_FAILED',
    );
    // a box without area (top >= bottom, left >= right) is refused before the 202
    expectError(
      await request(t.server).post('/v1/jobs').set(KEY).attach('face', ASTRONAUT).attach('audio', speech).field('box', '100,50,10,80'),
      400,
      'VALIDATION_FAILED',
    );
    expectError(
      await request(t.server).post('/v1/jobs').set(KEY).attach('face', ASTRONAUT).attach('audio', speech).field('box', '10,80,60,60'),
      400,
      'VALIDATION_FAILED',
    );
    expectError(
      await request(t.server).post('/v1/jobs').set(KEY).attach('face', ASTRONAUT).field('text', 'hi').field('voice', 'en; rm -rf /'),
      400,
      'VALIDATION_FAILED',
    );
    expectError(await request(t.server).post('/v1/jobs').set(KEY).attach('face', ASTRONAUT).field('text', '   '), 400, 'VALIDATION_FAILED');
    expectError(await request(t.server).post('/v1/avatars').set(KEY), 400, 'VALIDATION_FAILED');
    // Nothing is left behind by refused uploads.
    expect(fs.readdirSync(path.join(dataDir, 'uploads'))).toEqual([]);
    expect(fs.readdirSync(path.join(dataDir, 'jobs'))).toEqual([]);
  });

  it('should answer 404 NOT_FOUND for unknown jobs, avatars and routes', async () => {
    expectError(await request(t.server).get('/v1/jobs/does-not-exist').set(KEY), 404, 'NOT_FOUND');
    expectError(
      await request(t.server)
        .get(`/v1/avatars/${'0'.repeat(64)}`)
        .set(KEY),
      404,
      'NOT_FOUND',
    );
    expectError(await request(t.server).get('/v1/avatars/..%2F..%2Fetc').set(KEY), 404, 'NOT_FOUND');
    expectError(
      await request(t.server).post('/v1/jobs').set(KEY).field('avatarId', 'a'.repeat(64)).attach('audio', speech),
      404,
      'NOT_FOUND',
    );
    expectError(await request(t.server).get('/v1/nothing-here').set(KEY), 404, 'NOT_FOUND');
  });

  it('should refuse uploads over MAX_UPLOAD_BYTES with 413 PAYLOAD_TOO_LARGE', async () => {
    const big = Buffer.concat([fs.readFileSync(ASTRONAUT), Buffer.alloc(1_500_000)]);
    expectError(await request(t.server).post('/v1/avatars').set(KEY).attach('file', big, 'big.png'), 413, 'PAYLOAD_TOO_LARGE');
    expect(fs.readdirSync(path.join(dataDir, 'uploads'))).toEqual([]);
  });

  it('should judge uploads by content, not by name or type (415 UNSUPPORTED_MEDIA)', async () => {
    const text = Buffer.from('this is not an image at all, whatever the name says');
    expectError(
      await request(t.server).post('/v1/avatars').set(KEY).attach('file', text, { filename: 'face.png', contentType: 'image/png' }),
      415,
      'UNSUPPORTED_MEDIA',
    );
    // An image is not audio, even when called audio.wav.
    const res = await request(t.server)
      .post('/v1/jobs')
      .set(KEY)
      .attach('face', ASTRONAUT)
      .attach('audio', ASTRONAUT, { filename: 'audio.wav', contentType: 'audio/wav' });
    expectError(res, 415, 'UNSUPPORTED_MEDIA');
    expect(fs.readdirSync(path.join(dataDir, 'uploads'))).toEqual([]);
  });

  it('should answer 422 for a face-less avatar and for audio over the limit', async () => {
    expectError(await request(t.server).post('/v1/avatars').set(KEY).attach('file', noFace), 422, 'NO_FACE_FOUND');
    expect(fs.readdirSync(path.join(dataDir, 'avatars'))).toEqual([]);
    expectError(await request(t.server).post('/v1/jobs').set(KEY).attach('face', ASTRONAUT).attach('audio', tone), 422, 'AUDIO_TOO_LONG');
    expect(fs.readdirSync(path.join(dataDir, 'jobs'))).toEqual([]);
  });

  it('should queue up to QUEUE_MAX, refuse more with 429 QUEUE_FULL, and cancel a queued job', async () => {
    holding = true;
    try {
      const first = await request(t.server).post('/v1/jobs').set(KEY).attach('face', ASTRONAUT).attach('audio', speech).expect(202);
      await pollJob(t.server, first.body.id, (j) => j.status === 'running', KEY);
      const second = await request(t.server).post('/v1/jobs').set(KEY).attach('face', ASTRONAUT).attach('audio', speech).expect(202);
      expect(second.body).toMatchObject({ status: 'queued', queuePosition: 0 });
      // HEAD on the stream answers the headers now, without waiting for the held render.
      for (const id of [first.body.id, second.body.id]) {
        const head = await request(t.server).head(`/v1/jobs/${id}/stream`).set(KEY).timeout(5000);
        expect(head.status).toBe(200);
        expect(head.headers).toMatchObject({ 'content-type': 'video/mp4', 'x-job-id': id });
      }
      expectError(await request(t.server).post('/v1/jobs').set(KEY).attach('face', ASTRONAUT).attach('audio', speech), 429, 'QUEUE_FULL');

      const notReady = await request(t.server).get(`/v1/jobs/${first.body.id}/result`).set(KEY);
      expectError(notReady, 409, 'CONFLICT');
      expect(notReady.body.error.jobId).toBe(first.body.id);

      const cancelled = await request(t.server).delete(`/v1/jobs/${second.body.id}`).set(KEY).expect(200);
      expect(cancelled.body.status).toBe('cancelled');
      expect(fs.existsSync(path.join(dataDir, 'jobs', second.body.id))).toBe(false);
      holding = false;
      const done = await pollJob(t.server, first.body.id, undefined, KEY);
      expect(done.status).toBe('succeeded');
      expect((await getJob(t.server, second.body.id, KEY)).status).toBe('cancelled');
    } finally {
      holding = false;
    }
  });

  it('should answer POST /v1/lipsync with the finished MP4', async () => {
    const res = await lipsyncHi(t.server);
    expect(res.headers['content-type']).toBe('video/mp4');
    expect(res.body.subarray(4, 8).toString('latin1')).toBe('ftyp');
    const job = await getJob(t.server, res.headers['x-job-id'], KEY);
    expect(job.status).toBe('succeeded');
  });

  it('should serve byte ranges of a result and refuse an unsatisfiable one with 416 JSON', async () => {
    const done = await lipsyncHi(t.server);
    const url = `/v1/jobs/${done.headers['x-job-id']}/result`;
    const part = await request(t.server).get(url).set(KEY).set('Range', 'bytes=0-7').buffer(true).parse(binaryParser).expect(206);
    expect(part.body.subarray(4, 8).toString('latin1')).toBe('ftyp');
    const bad = await request(t.server).get(url).set(KEY).set('Range', 'bytes=999999999-');
    expectError(bad, 416, 'RANGE_NOT_SATISFIABLE');
    expect(bad.headers['content-type']).toMatch(/^application\/json/);
    expect(bad.headers['content-range']).toBe(`bytes */${done.body.length}`);
    for (const h of ['content-disposition', 'last-modified']) expect(bad.headers).not.toHaveProperty(h);
    expect(bad.headers.etag).not.toBe(part.headers.etag); // Express tags the JSON body itself; the MP4's tag must not stay
  });

  it('should accept the form exactly as Swagger UI "Try it out" sends it (defaults and empty fields)', async () => {
    // the field set Swagger UI posted for POST /v1/jobs in headless Chromium with two files chosen
    const res = await request(t.server)
      .post('/v1/lipsync')
      .set(KEY)
      .field({
        rate: '165',
        pads: '0,10,0,0',
        stream: 'false',
        loop: 'loop',
        outputHeight: '',
        fps: '25',
        box: '',
        text: '',
        smooth: 'true',
        voice: 'en-us',
        avatarId: '',
        encoder: 'auto',
        quality: '20',
      })
      .attach('face', ASTRONAUT)
      .attach('audio', speech)
      .buffer(true)
      .parse(binaryParser);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('video/mp4');
  });

  it('should publish an OpenAPI document listing every route, with a multipart job form', async () => {
    const doc = (await request(t.server).get('/docs-json').expect(200)).body;
    const routes = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops as object).map((m) => `${m.toUpperCase()} ${p}`));
    expect(routes.sort()).toEqual(
      [
        'POST /v1/avatars',
        'GET /v1/avatars',
        'GET /v1/avatars/{id}',
        'DELETE /v1/avatars/{id}',
        'POST /v1/jobs',
        'GET /v1/jobs/{id}',
        'GET /v1/jobs/{id}/result',
        'GET /v1/jobs/{id}/stream',
        'DELETE /v1/jobs/{id}',
        'POST /v1/lipsync',
        'POST /v1/sessions',
        'GET /v1/sessions/{id}',
        'DELETE /v1/sessions/{id}',
        'GET /healthz',
        'GET /readyz',
        'GET /metrics',
      ].sort(),
    );
    const form = doc.paths['/v1/jobs'].post.requestBody.content['multipart/form-data'].schema;
    const props = form.properties ?? doc.components.schemas[form.$ref.split('/').pop()].properties;
    expect(props.face).toMatchObject({ type: 'string', format: 'binary' });
    expect(props.audio).toMatchObject({ type: 'string', format: 'binary' });
    expect(Object.keys(props)).toEqual(
      expect.arrayContaining(['avatarId', 'text', 'voice', 'fps', 'box', 'pads', 'smooth', 'encoder', 'quality', 'loop', 'stream']),
    );
    expect(doc.paths['/v1/jobs'].post.responses['415'].content['application/json'].schema.$ref).toMatch(/ErrorResponseDto/);
    const html = await request(t.server).get('/docs').expect(200);
    expect(html.text).toMatch(/swagger-ui/i);
  });
});

describe('rate limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({
      DATA_DIR: tempDataDir('ratelimit'),
      INFERENCE_BACKEND: 'fake',
      API_KEYS: 'a-key,b-key',
      RATE_LIMIT_PER_MINUTE: '3',
    });
  });
  afterAll(() => t?.close());

  it('should limit each API key separately with 429 RATE_LIMITED', async () => {
    for (let i = 0; i < 3; i++) await request(t.server).get('/v1/avatars').set('X-API-Key', 'a-key').expect(200);
    expectError(await request(t.server).get('/v1/avatars').set('X-API-Key', 'a-key'), 429, 'RATE_LIMITED');
    await request(t.server).get('/v1/avatars').set('X-API-Key', 'b-key').expect(200);
    for (let i = 0; i < 5; i++) await request(t.server).get('/healthz').expect(200);
  });
});

describe('rate limit without API keys', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startApp({ DATA_DIR: tempDataDir('ratelimit-open'), INFERENCE_BACKEND: 'fake', RATE_LIMIT_PER_MINUTE: '3' });
  });
  afterAll(() => t?.close());

  it('should limit by client IP whatever key a request presents', async () => {
    for (let i = 0; i < 3; i++) await request(t.server).get('/v1/avatars').set('X-API-Key', `random-${i}`).expect(200);
    expectError(await request(t.server).get('/v1/avatars').set('X-API-Key', 'random-3'), 429, 'RATE_LIMITED');
  });
});
