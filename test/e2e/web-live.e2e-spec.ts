/// <reference lib="dom" />
// (DOM types only for the callbacks that run inside the page)
import * as fs from 'fs';
import * as path from 'path';
import request from 'supertest';
import { makeSpeech } from '../helpers/media';
import { launchBrowser, TestBrowser, waitForPlayback } from '../helpers/browser';
import { ASTRONAUT, startApp, tempDataDir, TestApp } from './e2e-helpers';

// The web page's live session in a real headless chromium: POST /v1/sessions, the WebSocket with
// ?key=, the fMP4 through Media Source Extensions into the <video>. The model is the fake backend;
// the session server, TTS, ffmpeg and chromium's decoder are real. Timeouts are generous (2 shared cores).
const KEY = 'live-key';

interface LiveStats {
  id?: string;
  state: string;
  stalls: number;
  bytes: number;
  started: boolean;
  mime?: string;
  currentTime: number;
  decodedFrames?: number;
  events: string[];
}

describe('web page: live session (MSE)', () => {
  let t: TestApp;
  let base: string;
  let dataDir: string;
  let b: TestBrowser;
  let audioFile: string;

  beforeAll(async () => {
    dataDir = tempDataDir('web-live');
    t = await startApp({ DATA_DIR: dataDir, INFERENCE_BACKEND: 'fake', API_KEYS: KEY });
    await new Promise<void>((r) => t.server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${t.server.address().port}`;
    await request(t.server).post('/v1/avatars').set('Authorization', `Bearer ${KEY}`).attach('file', ASTRONAUT).expect(201);
    audioFile = path.join(dataDir, 'speech.wav');
    await makeSpeech(audioFile, 3);
    b = await launchBrowser();
  });
  afterAll(async () => {
    await b?.close();
    await t?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const stats = () => b.page.evaluate(() => (window as any).lipsyncPage.liveStats() as LiveStats | undefined);

  async function openPage(): Promise<void> {
    await b.page.goto(base, { waitUntil: 'load' });
    await b.page.evaluate((k) => localStorage.setItem('lipsync.apiKey', k), KEY);
    await b.page.reload({ waitUntil: 'load' });
    await b.page.waitForFunction(() => /^[a-f0-9]{64}$/.test((document.getElementById('avatar-select') as HTMLSelectElement).value), {
      timeout: 60_000,
    });
  }

  it('should start a live session from text and play it while it is made', async () => {
    await openPage();
    await b.page.$eval(
      '#speech-text',
      (el) => ((el as HTMLTextAreaElement).value = 'Hello from the live session in the browser, speaking for a few seconds.'),
    );
    // media buffered ahead when playback first begins: the player holds the element until its 1 s start margin
    await b.page.$eval('#player', (v) => {
      const video = v as HTMLVideoElement;
      video.addEventListener(
        'playing',
        () =>
          ((window as any).__aheadAtStart = video.buffered.length ? video.buffered.end(video.buffered.length - 1) - video.currentTime : 0),
        { once: true },
      );
    });
    await b.page.click('#start-live');
    const played = await waitForPlayback(b.page, '#player', 1, 180_000);
    expect(played.currentTime).toBeGreaterThan(1);
    expect(await b.page.evaluate(() => (window as any).__aheadAtStart)).toBeGreaterThanOrEqual(1);
    expect(played.decoded).toBeGreaterThan(0);
    const s = (await stats())!;
    expect(s).toMatchObject({
      state: 'live',
      started: true,
      mime: expect.stringMatching(/^video\/mp4; codecs="avc1\.42C0[0-9A-F]{2}, mp4a\.40\.2"$/),
    });
    expect(s.events[0]).toBe('ready');
    expect(s.bytes).toBeGreaterThan(1000);

    // End: the server flushes, sends `ended` and closes; the page says so
    await b.page.click('#end-live');
    await b.page.waitForFunction(() => /ended|closed/.test(document.getElementById('status')!.textContent), { timeout: 120_000 });
    const after = (await stats())!;
    expect(after.events).toContain('ended');
    expect(b.errors).toEqual([]);
  });

  it('should decode a chosen audio file in the browser and send it as PCM', async () => {
    await openPage();
    await b.page.click('input[name=speech-kind][value=audio]');
    const input = await b.page.$('#audio-file');
    await (input as any).uploadFile(audioFile);
    await b.page.click('#start-live');
    const played = await waitForPlayback(b.page, '#player', 1, 180_000);
    expect(played.decoded).toBeGreaterThan(0);
    // the page ends the session by itself once the whole file is sent
    await b.page.waitForFunction(() => /ended|closed/.test(document.getElementById('status')!.textContent), { timeout: 120_000 });
    const s = (await stats())!;
    expect(s.events).toContain('ended');
    // the session the page made is over on the server too, with the file's audio in it
    const session = await request(t.server).get(`/v1/sessions/${s.id}`).set('Authorization', `Bearer ${KEY}`).expect(200);
    expect(session.body.status).toBe('ended');
    expect(session.body.totals.audioSeconds).toBeCloseTo(3, 1);
    expect(b.errors).toEqual([]);
  });
});
