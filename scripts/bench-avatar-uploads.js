#!/usr/bin/env node
// Memory bench for avatar uploads (issue 10 goal: 20 concurrent avatar uploads keep the server under
// 2 GB RSS). Starts the built gateway (dist/main.js) on a free loopback port with the fake backend,
// makes a video avatar with ffmpeg (default 4 s of 1280x720 at 25 fps, derived from the portrait),
// sends `--uploads` POST /v1/avatars at once (half the portrait, half the video) and reports the
// server's peak RSS (VmHWM from /proc), the answers by status, and the wall time.
//
//   npm run build && node scripts/bench-avatar-uploads.js [--uploads 20] [--seconds 10]
//
// The server is always stopped and the temp folder removed.
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const { ROOT, arg, freePort, requireBuild, startGateway, stopProcess } = require('./lib/bench-util');

const uploads = Number(arg('uploads', '20'));
const seconds = Number(arg('seconds', '4'));
const PORTRAIT = path.join(ROOT, 'test', 'fixtures', 'faces', 'astronaut.png');

// multipart POST /v1/avatars over node:http: fetch gives up on headers after 300 s, and a queued
// preparation (AVATAR_CONCURRENCY) may wait longer than that on this CPU
function postFile(port, bytes, name, type) {
  const boundary = `----bench${Math.random().toString(16).slice(2)}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: ${type}\r\n\r\n`,
  );
  const body = Buffer.concat([head, bytes, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/v1/avatars',
        method: 'POST',
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': body.length },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      },
    );
    req.on('error', (e) => resolve(`error ${e.code ?? e.message}`));
    req.end(body);
  });
}

const peakRssMb = (pid) => {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};

async function main() {
  requireBuild();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lipsync-bench-avatars-'));
  const video = path.join(tmp, 'presenter.mp4');
  // the portrait centred in a 16:9 frame, slowly zooming, so every frame decodes to new pixels
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-loop',
    '1',
    '-framerate',
    '25',
    '-i',
    PORTRAIT,
    '-t',
    String(seconds),
    '-vf',
    "scale=720:720,pad=1280:720:280:0,zoompan=z='1+0.0005*on':d=1:s=1280x720:fps=25,format=yuv420p",
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-crf',
    '28',
    video,
  ]);
  const port = await freePort();
  let server;
  try {
    server = await startGateway({
      port,
      env: { INFERENCE_BACKEND: 'fake', DATA_DIR: path.join(tmp, 'data'), LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '100000' },
    });
    const idle = peakRssMb(server.pid);
    const files = [fs.readFileSync(PORTRAIT), fs.readFileSync(video)];
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: uploads }, async (_, i) => {
        const bytes = Buffer.concat([files[i % 2], Buffer.from([i])]);
        return postFile(port, bytes, i % 2 ? 'v.mp4' : 'p.png', i % 2 ? 'video/mp4' : 'image/png');
      }),
    );
    const byStatus = answers.reduce((m, s) => ({ ...m, [s]: (m[s] ?? 0) + 1 }), {});
    console.log(
      `avatar uploads: ${uploads} at once (${Math.ceil(uploads / 2)} portraits 512², ${Math.floor(uploads / 2)} videos 1280x720 ${seconds} s)`,
    );
    console.log(`answers by status: ${JSON.stringify(byStatus)}; wall ${((Date.now() - started) / 1000).toFixed(1)} s`);
    console.log(`server peak RSS: ${peakRssMb(server.pid).toFixed(0)} MB (idle after start: ${idle.toFixed(0)} MB; goal < 2048 MB)`);
  } finally {
    await stopProcess(server);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`bench-avatar-uploads: ${err.message}`);
  process.exit(1);
});
