import { execFile } from 'child_process';
import * as fs from 'fs';
import type { AddressInfo } from 'net';
import * as path from 'path';
import request from 'supertest';
import { promisify } from 'util';
import { FakeBackend } from '../../gateway/src/inference/fake.backend';
import { ASTRONAUT, childProcesses, startApp, tempDataDir, TestApp } from './e2e-helpers';
import { probeFile, SessionClient, tonePcm } from './session-client';

const exec = promisify(execFile);
const KEY = 'session-key';
const AUTH = { Authorization: `Bearer ${KEY}` };

/** RMS per 10 ms of s16le PCM. */
function envelope(pcm: Buffer): number[] {
  const out: number[] = [];
  for (let o = 0; o + 320 <= pcm.length; o += 320) {
    let s = 0;
    for (let i = 0; i < 160; i++) s += pcm.readInt16LE(o + 2 * i) ** 2;
    out.push(Math.sqrt(s / 160));
  }
  return out;
}

/** The lag (in 10 ms steps) at which `b` best matches `a`. */
function bestLag(a: number[], b: number[], maxLag: number): number {
  let best = 0;
  let bestScore = -Infinity;
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    let s = 0;
    for (let i = 0; i < a.length; i++) if (i + lag >= 0 && i + lag < b.length) s += a[i] * b[i + lag];
    if (s > bestScore) [best, bestScore] = [lag, s];
  }
  return best;
}

/** Live sessions over a real WebSocket (the `ws` client) on the fake model: PCM at real-time pace in, fMP4 out. */
describe('live sessions (WebSocket)', () => {
  let t: TestApp;
  let base: string;
  let avatarId: string;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = tempDataDir('sessions');
    // A long idle grace: a loaded machine must not turn a late chunk into idle frames in the duration test.
    t = await startApp(
      {
        DATA_DIR: dataDir,
        INFERENCE_BACKEND: 'fake',
        API_KEYS: KEY,
        SESSION_IDLE_AFTER_MS: '1500',
        MAX_SESSIONS: '2',
        TTS_MAX_CHARS: '200',
      },
      { backend: new FakeBackend() },
    );
    await new Promise<void>((r) => t.server.listen(0, '127.0.0.1', () => r()));
    base = `ws://127.0.0.1:${(t.server.address() as AddressInfo).port}`;
    avatarId = (await request(t.server).post('/v1/avatars').set(AUTH).attach('file', ASTRONAUT).expect(201)).body.avatarId;
  });

  afterAll(async () => {
    await t?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const create = async (body: object = {}) =>
    (
      await request(t.server)
        .post('/v1/sessions')
        .set(AUTH)
        .send({ avatarId, ...body })
        .expect(201)
    ).body;
  const connect = (id: string, how: 'bearer' | 'query' | 'none' = 'bearer') =>
    new SessionClient(`${base}/v1/sessions/${id}/ws${how === 'query' ? `?key=${KEY}` : ''}`, how === 'bearer' ? AUTH : {});

  it('should stream a playable fMP4 (H.264 + AAC) whose video covers the audio sent, in sync, then end', async () => {
    const s = await create();
    expect(s).toMatchObject({
      status: 'created',
      fps: 25,
      width: 512,
      height: 512,
      mime: 'video/mp4; codecs="avc1.42C01E, mp4a.40.2"',
      links: { ws: `/v1/sessions/${s.id}/ws` },
    });
    const c = connect(s.id);
    await c.opened;
    const ready = await c.waitFor((e) => e.type === 'ready');
    expect(ready).toMatchObject({ id: s.id, mime: s.mime, fps: 25, width: 512, height: 512, sampleRate: 16000 });
    expect(c.chunks).toHaveLength(0); // ready comes before any video byte
    const pcm = tonePcm(3);
    await c.sendRealtime(pcm);
    c.ws.send(JSON.stringify({ type: 'end' }));
    const ended = await c.waitFor((e) => e.type === 'ended');
    expect(await c.closed).toMatchObject({ code: 1000 });
    expect(ended).toMatchObject({ speechFrames: 75, droppedFrames: 0 });
    expect(ended.audioSeconds).toBeCloseTo(3, 3);

    const file = path.join(dataDir, 'live.mp4');
    fs.writeFileSync(file, c.bytes);
    expect(c.bytes.toString('latin1', 4, 8)).toBe('ftyp'); // init segment first
    const [video, audio] = await probeFile(file);
    expect([video.codec_name, audio.codec_name]).toEqual(['h264', 'aac']);
    const frames = Number(video.nb_read_frames);
    expect(frames).toBe(ended.frames);
    // video = the audio sent (plus idle frames, if the sender ever fell 1.5 s behind), ±2 frames
    expect(Math.abs(frames - ended.idleFrames - 75)).toBeLessThanOrEqual(2);
    expect(Math.abs(Number(video.duration) - Number(audio.duration))).toBeLessThanOrEqual(2 / 25);
    expect(Math.abs(Number(video.start_time) - Number(audio.start_time))).toBeLessThanOrEqual(1 / 25);
    // A/V timing: the tone's envelope sits where it was sent (output audio decoded back to 16 kHz)
    if (ended.idleFrames === 0) {
      const { stdout } = await exec(
        'ffmpeg',
        ['-v', 'error', '-i', file, '-map', '0:a', '-f', 's16le', '-ac', '1', '-ar', '16000', 'pipe:1'],
        { encoding: 'buffer', maxBuffer: 1 << 26 },
      );
      expect(Math.abs(bestLag(envelope(pcm), envelope(stdout), 20))).toBeLessThanOrEqual(4); // within 40 ms = one frame
    }
    expect((await request(t.server).get(`/v1/sessions/${s.id}`).set(AUTH).expect(200)).body).toMatchObject({
      status: 'ended',
      totals: { speechFrames: 75 },
    });
    expect(fs.existsSync(path.join(dataDir, 'sessions', s.id))).toBe(false);
  });

  it('should speak `say` text into the timeline', async () => {
    const s = await create({ voice: 'en-us' });
    const c = connect(s.id, 'query');
    await c.opened;
    await c.waitFor((e) => e.type === 'ready');
    c.ws.send(JSON.stringify({ type: 'say', text: 'Hello from the live session.' }));
    c.ws.send(JSON.stringify({ type: 'end' }));
    const ended = await c.waitFor((e) => e.type === 'ended');
    expect(ended.audioSeconds).toBeGreaterThan(0.5);
    expect(ended.speechFrames).toBeGreaterThanOrEqual(Math.floor(ended.audioSeconds * 25));
    const file = path.join(dataDir, 'say.mp4');
    fs.writeFileSync(file, c.bytes);
    const [video, audio] = await probeFile(file);
    expect(Number(video.nb_read_frames)).toBe(ended.frames);
    expect(audio.codec_name).toBe('aac');
    // marked synthetic like every MP4 the gateway makes (tags in the init segment)
    const { stdout } = await exec('ffprobe', ['-v', 'error', '-show_entries', 'format_tags', '-of', 'json', file]);
    expect(JSON.parse(stdout).format.tags).toMatchObject({ ai_generated: 'true' });
  });

  it('should keep sending idle frames while no audio comes', async () => {
    const s = await create();
    const c = connect(s.id);
    await c.opened;
    await c.waitFor((e) => e.type === 'ready');
    // no audio at all: after the 1.5 s grace, idle frames flow (their fragments arrive before we say anything)
    for (let i = 0; i < 100 && !c.bytes.includes(Buffer.from('moof')); i++) await new Promise((r) => setTimeout(r, 100));
    expect(c.bytes.includes(Buffer.from('moof'))).toBe(true);
    await new Promise((r) => setTimeout(r, 1000));
    c.ws.send(tonePcm(0.4));
    c.ws.send(JSON.stringify({ type: 'end' }));
    const ended = await c.waitFor((e) => e.type === 'ended');
    expect(ended.idleFrames).toBeGreaterThanOrEqual(10);
    expect(ended.speechFrames).toBe(10);
    fs.writeFileSync(path.join(dataDir, 'idle.mp4'), c.bytes);
    const [video, audio] = await probeFile(path.join(dataDir, 'idle.mp4'));
    expect(Number(video.nb_read_frames)).toBe(ended.frames);
    expect(Math.abs(Number(video.duration) - Number(audio.duration))).toBeLessThanOrEqual(2 / 25);
  });

  it('should answer each bad message with its error event and keep the session going', async () => {
    const s = await create();
    const c = connect(s.id);
    await c.opened;
    await c.waitFor((e) => e.type === 'ready');
    c.ws.send(Buffer.alloc(641)); // odd byte count
    c.ws.send('not json');
    c.ws.send(JSON.stringify({ type: 'dance' }));
    c.ws.send(JSON.stringify({ type: 'say', text: 'x'.repeat(201) })); // TTS_MAX_CHARS=200
    c.ws.send(JSON.stringify({ type: 'say', text: '   ' }));
    for (;;) {
      if (c.events.filter((e) => e.type === 'error').length >= 5) break;
      await c.waitFor((e) => e.type === 'error' && c.events.filter((x) => x.type === 'error').length >= 5);
    }
    const errors = c.events.filter((e) => e.type === 'error');
    expect(errors.map((e) => e.code)).toEqual(['BAD_MESSAGE', 'BAD_MESSAGE', 'BAD_MESSAGE', 'VALIDATION_FAILED', 'VALIDATION_FAILED']);
    expect(errors.every((e) => e.fatal === false && typeof e.message === 'string')).toBe(true);
    c.ws.send(tonePcm(0.2)); // still alive
    c.ws.send(JSON.stringify({ type: 'end' }));
    expect((await c.waitFor((e) => e.type === 'ended')).speechFrames).toBe(5);
  });

  it('should refuse unknown avatars, bad options, unknown sessions, missing keys, a second socket and too many sessions', async () => {
    const post = (body: object) => request(t.server).post('/v1/sessions').set(AUTH).send(body);
    expect((await post({ avatarId: 'f'.repeat(64) })).body.error.code).toBe('NOT_FOUND');
    expect((await post({ avatarId, fps: 0 })).status).toBe(400);
    expect((await post({ avatarId, outputHeight: 101 })).body.error.code).toBe('VALIDATION_FAILED');
    expect((await post({ avatarId, voice: '-x; rm' })).status).toBe(400);
    expect((await request(t.server).post('/v1/sessions').send({ avatarId })).status).toBe(401);

    const ghost = connect('00000000-0000-0000-0000-000000000000');
    expect(await ghost.closed).toMatchObject({ code: 4404 });
    expect(ghost.events[0]).toMatchObject({ type: 'error', code: 'NOT_FOUND', fatal: true });

    const s = await create();
    const nokey = connect(s.id, 'none');
    expect(await nokey.closed).toMatchObject({ code: 4401 });
    expect(nokey.events[0]).toMatchObject({ code: 'UNAUTHORIZED' });

    const first = connect(s.id);
    await first.waitFor((e) => e.type === 'ready');
    const second = connect(s.id);
    expect(await second.closed).toMatchObject({ code: 4409 });
    expect(second.events[0]).toMatchObject({ code: 'CONFLICT' });

    const other = await create(); // MAX_SESSIONS=2
    expect((await post({ avatarId })).body.error.code).toBe('SESSION_LIMIT');
    await request(t.server).delete(`/v1/sessions/${other.id}`).set(AUTH).expect(204);
    await request(t.server).get(`/v1/sessions/${other.id}`).set(AUTH).expect(404);

    // DELETE of a connected session closes its socket; its ffmpeg and temp folder go
    await request(t.server).delete(`/v1/sessions/${s.id}`).set(AUTH).expect(204);
    expect((await first.closed).code).toBe(1000);
    expect(fs.existsSync(path.join(dataDir, 'sessions', s.id))).toBe(false);
    for (let i = 0; i < 50 && childProcesses('ffmpeg').length; i++) await new Promise((r) => setTimeout(r, 100));
    expect(childProcesses('ffmpeg')).toEqual([]);
  });

  it('should export session metrics', async () => {
    const text = (await request(t.server).get('/metrics').set(AUTH).expect(200)).text;
    expect(text).toMatch(/^lipsync_sessions_active 0$/m);
    expect(Number(/^lipsync_session_latency_seconds_count (\d+)/m.exec(text)?.[1])).toBeGreaterThan(0);
    expect(text).toMatch(/^lipsync_session_frames_total\{kind="idle"\} [1-9]/m);
  });
});

describe('live sessions with a backend that is not ready', () => {
  it('should refuse to open a session with BACKEND_UNAVAILABLE', async () => {
    const dataDir = tempDataDir('sessions-down');
    const t = await startApp(
      { DATA_DIR: dataDir, INFERENCE_BACKEND: 'fake' },
      { backend: new FakeBackend({ notReadyReason: 'model loading' }) },
    );
    try {
      const res = await request(t.server)
        .post('/v1/sessions')
        .send({ avatarId: 'a'.repeat(64) });
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('BACKEND_UNAVAILABLE');
    } finally {
      await t.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
