#!/usr/bin/env node
// Browser playback bench for live sessions (issue 12 goal: 0 stalls in the browser over 20 s of
// speech). Starts the built gateway (dist/main.js) on a free loopback port, opens the web page in
// Debian's headless chromium (puppeteer-core), starts a live session that speaks ~20 s of text
// and reports, after `--seconds` of playback: stalls (`waiting` events after playback began),
// time from click to first frame and to playback, decoded/dropped frames, how much media was buffered
// ahead of playback, the server's frame counts by kind (`dropped`: sent without the model) and every
// media event (waiting/playing/seeking…) with its wall time since the click, currentTime and buffered ranges.
//
//   npm run build && node scripts/bench-browser-live.js [--backend fake|onnx] [--seconds 20] [--trace]
//
// The server and chromium are always stopped. Speed figures vary with the shared CPU: run it twice.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { ROOT, arg, flag, freePort, requireBuild, startGateway, stopProcess } = require('./lib/bench-util');
const { CHROMIUM_ARGS, CHROMIUM_PATH } = require('./lib/chromium');
const backend = arg('backend', 'fake');
const seconds = Number(arg('seconds', '20'));
const trace = flag('trace'); // also print the buffered end every 250 ms for the first 10 s
const TEXT =
  'This is a live session from the lip sync gateway. The browser plays the video while it is being made, ' +
  'through media source extensions, and we count every time the player has to wait for data. ' +
  'A live player should never stall while the server keeps up with the audio. ' +
  'The avatar keeps talking for about twenty seconds, so that the measurement covers a realistic stretch of speech, ' +
  'with pauses between the sentences and a steady stream of fragments from the encoder. That is all for now, thank you.';

async function main() {
  const puppeteer = require('puppeteer-core');
  requireBuild();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lipsync-bench-live-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let server;
  let browser;
  try {
    server = await startGateway({ port, env: { INFERENCE_BACKEND: backend, DATA_DIR: dataDir, LOG_LEVEL: 'warn', TTS_MAX_CHARS: '2000' } });
    const form = new FormData();
    form.append('file', new Blob([fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'faces', 'astronaut.png'))]), 'face.png');
    const avatar = await (await fetch(`${url}/v1/avatars`, { method: 'POST', body: form })).json();
    if (!avatar.avatarId) throw new Error(`avatar upload failed: ${JSON.stringify(avatar)}`);

    browser = await puppeteer.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      protocolTimeout: 300_000,
      args: [...CHROMIUM_ARGS],
    });
    const page = await browser.newPage();
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForFunction(() => document.getElementById('avatar-select').value.length === 64, { timeout: 60_000 });
    await page.$eval('#speech-text', (el, text) => (el.value = text), TEXT);
    // samplers of the media buffered ahead of playback and of the media events, times from the click
    await page.evaluate(() => {
      const v = document.getElementById('player');
      window.__behind = [];
      window.__t0 = undefined;
      window.__waits = [];
      const ranges = (r) => Array.from({ length: r.length }, (_, i) => [r.start(i), r.end(i)].map((x) => Math.round(x * 1000) / 1000));
      const note = (type) => () =>
        window.__t0 !== undefined &&
        window.__waits.push({
          type,
          wallMs: Math.round(performance.now() - window.__t0),
          currentTime: v.currentTime,
          buffered: ranges(v.buffered),
          readyState: v.readyState,
        });
      for (const t of ['waiting', 'playing', 'seeking', 'seeked', 'stalled']) v.addEventListener(t, note(t));
      window.__grow = [];
      setInterval(() => {
        if (window.__t0 !== undefined && window.__grow.length < 40 && v.buffered.length)
          window.__grow.push([
            Math.round(performance.now() - window.__t0),
            Math.round(v.buffered.end(v.buffered.length - 1) * 1000),
            Math.round(v.currentTime * 1000),
          ]);
      }, 250);
      setInterval(() => {
        if (v.buffered.length && !v.paused) window.__behind.push(v.buffered.end(v.buffered.length - 1) - v.currentTime);
      }, 250);
    });
    const t0 = Date.now();
    await page.evaluate(() => (window.__t0 = performance.now()));
    await page.click('#start-live');
    await page.waitForFunction(() => document.getElementById('player').getVideoPlaybackQuality().totalVideoFrames > 0, {
      timeout: 300_000,
      polling: 50,
    });
    const firstFrameMs = Date.now() - t0;
    // playback itself begins once the player's start margin is buffered (the first frame shows before)
    await page.waitForFunction(() => document.getElementById('player').currentTime > 0, { timeout: 300_000, polling: 50 });
    const firstMotionMs = Date.now() - t0;
    await page.waitForFunction(
      (s) => document.getElementById('player').currentTime >= s,
      { timeout: (seconds * 4 + 120) * 1000, polling: 200 },
      seconds,
    );
    const wallS = (Date.now() - t0) / 1000;
    const r = await page.evaluate(() => {
      const s = window.lipsyncPage.liveStats();
      const b = window.__behind.slice().sort((x, y) => x - y);
      const pick = (q) => (b.length ? Math.round(b[Math.min(b.length - 1, Math.floor(q * b.length))] * 1000) : null);
      return { ...s, behindP50Ms: pick(0.5), behindP95Ms: pick(0.95), mediaEvents: window.__waits, grow: window.__grow };
    });
    // the server's frame counts (speech frames later than SESSION_MAX_LAG_MS are sent without the model: `dropped`)
    const metrics = await (await fetch(`${url}/metrics`)).text();
    const serverFrames = {};
    for (const m of metrics.matchAll(/^lipsync_session_frames_total\{kind="(\w+)"\} (\d+)/gm)) serverFrames[m[1]] = Number(m[2]);
    console.log(
      JSON.stringify(
        {
          backend,
          playedSeconds: Math.round(r.currentTime * 10) / 10,
          wallSeconds: Math.round(wallS * 10) / 10,
          stalls: r.stalls,
          clickToFirstFrameMs: firstFrameMs,
          clickToPlaybackMs: firstMotionMs,
          decodedFrames: r.decodedFrames,
          droppedFrames: r.droppedFrames,
          bufferedAheadP50Ms: r.behindP50Ms,
          bufferedAheadP95Ms: r.behindP95Ms,
          mime: r.mime,
          events: r.events,
          serverFrames,
          mediaEvents: r.mediaEvents,
          ...(trace ? { growth: r.grow.map(([wallMs, endMs, currentMs]) => ({ wallMs, endMs, currentMs })) } : {}),
        },
        null,
        2,
      ),
    );
    return r.stalls === 0 ? 0 : 3;
  } finally {
    if (browser) {
      const proc = browser.process();
      await Promise.race([browser.close().catch(() => undefined), new Promise((r) => setTimeout(r, 10_000).unref())]);
      if (proc && proc.exitCode === null) proc.kill('SIGKILL');
    }
    await stopProcess(server);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => (process.exitCode = code),
  (err) => {
    console.error(`bench-browser-live: ${err.message}`);
    process.exitCode = 1;
  },
);
