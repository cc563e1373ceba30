import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import request from 'supertest';
import { makeSpeech } from '../helpers/media';
import { ASTRONAUT, pollJob, startApp, tempDataDir, TestApp } from './e2e-helpers';

// Issue 10, item 1: media whose demuxer would open other files (playlists, lists, session
// descriptions, image patterns) is refused with 415 before a job exists, as audio and as an avatar;
// a good job still succeeds afterwards. Fake inference backend; sniffing, ffprobe and ffmpeg are real.
const KEY = { Authorization: 'Bearer k1' };

describe('media that references other files (fake backend)', () => {
  let t: TestApp;
  let dataDir: string;
  let speech: string;
  let secret: string;

  beforeAll(async () => {
    dataDir = tempDataDir('badmedia');
    t = await startApp({ DATA_DIR: path.join(dataDir, 'data'), INFERENCE_BACKEND: 'fake', API_KEYS: 'k1' });
    speech = path.join(dataDir, 'speech.wav');
    await makeSpeech(speech, 1, 'Hello.');
    // stands for another client's media on the same server
    secret = path.join(dataDir, 'other-client.mp4');
    execFileSync('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=300:duration=1',
      '-f',
      'lavfi',
      '-i',
      'color=c=red:s=64x64:d=1',
      '-shortest',
      secret,
    ]);
  });
  afterAll(() => t?.close());

  const id3 = (body: string) => Buffer.concat([Buffer.from('ID3\x03\x00\x00\x00\x00\x00\x00', 'latin1'), Buffer.from(body)]);
  const hls = () => `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:${secret}\n#EXT-X-ENDLIST\n`;
  const cases = (): [string, Buffer, string][] => [
    ['an HLS playlist', Buffer.from(hls()), 'speech.m3u8'],
    ['an HLS playlist behind an ID3 tag (sniffs as MP3)', id3(hls()), 'speech.mp3'],
    ['an ffconcat list', Buffer.from(`ffconcat version 1.0\nfile ${secret}\n`), 'speech.ffconcat'],
    [
      'an SDP session',
      Buffer.from('v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 5004 RTP/AVP 0\n'),
      'speech.sdp',
    ],
    ['an image2 pattern', Buffer.from(`${path.dirname(secret)}/img%03d.png`), 'img%03d.png'],
  ];

  const expect415 = (res: request.Response) => {
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA');
    expect(res.body.error.message).not.toContain(dataDir); // no server paths in messages
  };
  const jobDirs = () => (fs.existsSync(path.join(t.config.dataDir, 'jobs')) ? fs.readdirSync(path.join(t.config.dataDir, 'jobs')) : []);

  it('should refuse each as audio with 415 UNSUPPORTED_MEDIA and queue nothing', async () => {
    for (const [, bytes, filename] of cases()) {
      expect415(await request(t.server).post('/v1/jobs').set(KEY).attach('face', ASTRONAUT).attach('audio', bytes, { filename }));
    }
    // an image sent as audio (ffmpeg would pick image2/png_pipe by itself)
    expect415(
      await request(t.server).post('/v1/jobs').set(KEY).attach('face', ASTRONAUT).attach('audio', ASTRONAUT, { filename: 'img%03d.png' }),
    );
    expect(jobDirs()).toEqual([]);
  });

  it('should refuse each as an avatar and as a job face with 415 UNSUPPORTED_MEDIA', async () => {
    for (const [, bytes, filename] of cases()) {
      expect415(await request(t.server).post('/v1/avatars').set(KEY).attach('file', bytes, { filename }));
      expect415(await request(t.server).post('/v1/jobs').set(KEY).attach('face', bytes, { filename }).attach('audio', speech));
    }
    expect(jobDirs()).toEqual([]);
    expect(fs.readdirSync(path.join(t.config.dataDir, 'uploads'))).toEqual([]);
  });

  it("should probe a job's face video before the 202: a truncated MP4 (sniffs as MP4, ffprobe refuses it) is 415", async () => {
    const truncated = fs.readFileSync(secret).subarray(0, 200); // ftyp box, no moov
    expect415(
      await request(t.server).post('/v1/jobs').set(KEY).attach('face', truncated, { filename: 'face.mp4' }).attach('audio', speech),
    );
    expect(jobDirs()).toEqual([]);
    expect(fs.readdirSync(path.join(t.config.dataDir, 'uploads'))).toEqual([]);
  });

  it('should still run a good job to success', async () => {
    const res = await request(t.server).post('/v1/jobs').set(KEY).attach('face', ASTRONAUT).attach('audio', speech).expect(202);
    const done = await pollJob(t.server, res.body.id, undefined, KEY);
    expect(done.status).toBe('succeeded');
  });
});
