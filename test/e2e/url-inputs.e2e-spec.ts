import * as fs from 'fs';
import * as path from 'path';
import request from 'supertest';
import { makeSpeech } from '../helpers/media';
import { LocalServer, loopbackResolver, startLocalServer } from '../helpers/local-http';
import { ASTRONAUT, pollJob, startApp, tempDataDir, TestApp } from './e2e-helpers';

// faceUrl / audioUrl on POST /v1/jobs and /v1/avatars, served by a local server on 127.0.0.1
// (allowlisted by host:port); names resolve through a test resolver that only knows loopback.
describe('URL inputs (fake backend)', () => {
  let t: TestApp;
  let media: LocalServer;
  let dataDir: string;
  let speech: Buffer;

  beforeAll(async () => {
    dataDir = tempDataDir('urls');
    const wav = path.join(dataDir, 'speech.wav');
    await makeSpeech(wav, 1, 'Hello.');
    speech = fs.readFileSync(wav);
    const face = fs.readFileSync(ASTRONAUT);
    media = await startLocalServer((req, res) => {
      if (req.url === '/face.png') return void res.writeHead(200, { 'content-type': 'image/png' }).end(face);
      if (req.url === '/speech.wav') return void res.end(speech);
      if (req.url === '/speech-moved') return void res.writeHead(301, { location: '/speech.wav' }).end();
      if (req.url === '/notes.txt') return void res.writeHead(200, { 'content-type': 'image/png' }).end('just some text, not an image');
      res.writeHead(404).end();
    });
    const resolver = loopbackResolver({ 'media.example.test': '127.0.0.1' });
    t = await startApp(
      { DATA_DIR: dataDir, INFERENCE_BACKEND: 'fake', OUTBOUND_ALLOW_HOSTS: media.hostPort, MAX_UPLOAD_BYTES: '3000000' },
      { outboundLookup: resolver.lookup },
    );
  });
  afterAll(async () => {
    await t?.close();
    await media?.close();
  });

  const uploadsLeft = () => fs.readdirSync(path.join(dataDir, 'uploads'));

  it('should render a job whose face and audio come from URLs (one redirect followed)', async () => {
    const res = await request(t.server)
      .post('/v1/jobs')
      .field('faceUrl', media.url('/face.png'))
      .field('audioUrl', media.url('/speech-moved'))
      .field('fps', '10');
    expect(res.status).toBe(202);
    expect(res.body.options).toEqual({ fps: 10 }); // URLs are inputs, not render options
    const done = await pollJob(t.server, res.body.id);
    expect(done.status).toBe('succeeded');
    expect(done.result.frames).toBeGreaterThan(5);
    expect(uploadsLeft()).toEqual([]);
  });

  it('should accept JSON bodies with URL inputs and create an avatar from faceUrl', async () => {
    const avatar = await request(t.server)
      .post('/v1/avatars')
      .send({ faceUrl: media.url('/face.png') });
    expect(avatar.status).toBe(201);
    expect(avatar.body.avatarId).toMatch(/^[a-f0-9]{64}$/);
    const job = await request(t.server)
      .post('/v1/jobs')
      .send({ avatarId: avatar.body.avatarId, audioUrl: media.url('/speech.wav') });
    expect(job.status).toBe(202);
    expect((await pollJob(t.server, job.body.id)).status).toBe('succeeded');
  });

  it('should refuse forbidden, unreachable and unsupported URLs with their codes and leave no files', async () => {
    const jobsBefore = fs.readdirSync(path.join(dataDir, 'jobs')).length;
    const refuse = async (fields: Record<string, string>, status: number, code: string) => {
      const res = await request(t.server).post('/v1/jobs').send(fields);
      expect({ status: res.status, code: res.body.error?.code }).toEqual({ status, code });
      expect(JSON.stringify(res.body)).not.toContain(dataDir);
      return res;
    };
    // 127.0.0.1 on a port that is not allowlisted; the resolver maps this name to 127.0.0.1
    await refuse({ faceUrl: `http://127.0.0.1:${media.port + 1}/face.png`, text: 'Hi.' }, 422, 'URL_FORBIDDEN');
    await refuse({ faceUrl: `http://media.example.test:${media.port}/face.png`, text: 'Hi.' }, 422, 'URL_FORBIDDEN');
    await refuse({ faceUrl: 'http://169.254.169.254/latest/meta-data/', text: 'Hi.' }, 422, 'URL_FORBIDDEN');
    await refuse({ faceUrl: media.url('/missing.png'), text: 'Hi.' }, 422, 'URL_UNREACHABLE');
    await refuse({ faceUrl: 'ftp://example.com/x.png', text: 'Hi.' }, 400, 'VALIDATION_FAILED');
    // a download passes the same content sniffing as an upload
    const notFace = await refuse({ faceUrl: media.url('/notes.txt'), text: 'Hi.' }, 415, 'UNSUPPORTED_MEDIA');
    expect(notFace.body.error.message).toMatch(/^faceUrl: /);
    const notAudio = await refuse({ faceUrl: media.url('/face.png'), audioUrl: media.url('/notes.txt') }, 415, 'UNSUPPORTED_MEDIA');
    expect(notAudio.body.error.message).toMatch(/^audioUrl: /);
    // exactly one source per input
    const both = await refuse({ faceUrl: media.url('/face.png'), avatarId: 'a'.repeat(64), text: 'Hi.' }, 400, 'VALIDATION_FAILED');
    expect(both.body.error.message).toMatch(/faceUrl/);
    const avatar = await request(t.server)
      .post('/v1/avatars')
      .send({ faceUrl: `http://127.0.0.1:${media.port + 1}/face.png` });
    expect(avatar.status).toBe(422);
    expect(avatar.body.error.code).toBe('URL_FORBIDDEN');
    expect(uploadsLeft()).toEqual([]);
    expect(fs.readdirSync(path.join(dataDir, 'jobs')).length).toBe(jobsBefore);
  });

  it('should refuse a download over MAX_UPLOAD_BYTES with 413 URL_TOO_LARGE', async () => {
    const big = await startLocalServer((_req, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(1 << 20);
      for (let i = 0; i < 4; i++) res.write(chunk);
      res.end();
    });
    try {
      // the allowlist is fixed at boot: a second app trusts this server
      const app2 = await startApp({
        DATA_DIR: tempDataDir('urls-big'),
        INFERENCE_BACKEND: 'fake',
        OUTBOUND_ALLOW_HOSTS: big.hostPort,
        MAX_UPLOAD_BYTES: '1000000',
      });
      try {
        const res = await request(app2.server)
          .post('/v1/jobs')
          .send({ faceUrl: big.url('/x'), text: 'Hi.' });
        expect(res.status).toBe(413);
        expect(res.body.error.code).toBe('URL_TOO_LARGE');
        expect(fs.readdirSync(path.join(app2.config.dataDir, 'uploads'))).toEqual([]);
      } finally {
        await app2.close();
      }
    } finally {
      await big.close();
    }
  });
});
