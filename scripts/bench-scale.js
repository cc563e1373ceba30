#!/usr/bin/env node
// Scale-out bench for QUEUE=redis (issue 11, item 9): jobs/s and p50/p95 job latency with 1 and 2
// render workers. Per worker count it starts Debian's redis-server on a free loopback port, one
// ROLE=api and N ROLE=worker gateways (node dist/main.js) on one DATA_DIR, with the fake backend
// sleeping a fixed time per batch (FAKE_BATCH_DELAY_MS: a GPU stand-in, so the CPU is not what
// scales). A small avatar (uploaded once) and short audio keep the per-job CPU work (decode,
// compositing, x264) low; the table says how many of the machine's cores the processes kept busy.
// `--clients` submit-and-wait loops keep the queue full (latency = finishedAt - createdAt, so it
// includes the wait in the queue).
//
//   npm run build && node scripts/bench-scale.js [--workers 1,2] [--jobs 16] [--clients 8]
//     [--job-concurrency 2] [--batch-delay-ms 1000] [--batch-size 8] [--seconds 4] [--side 192]
//   node scripts/bench-scale.js --kill [--jobs 50]   # 2 workers, one SIGKILLed mid-run: lost / failed
//
// Everything it starts is stopped and its temp folder removed.
'use strict';
const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { ROOT, arg, flag, freePort, sleep, requireBuild, startGateway, stopProcess, cpuSeconds, percentile } = require('./lib/bench-util');

const kill = flag('kill');
const o = {
  workers: arg('workers', kill ? '2' : '1,2')
    .split(',')
    .map(Number),
  jobs: Number(arg('jobs', kill ? '50' : '16')),
  clients: Number(arg('clients', '8')),
  jobConcurrency: Number(arg('job-concurrency', '2')),
  batchDelayMs: Number(arg('batch-delay-ms', '1000')),
  batchSize: Number(arg('batch-size', '8')),
  seconds: Number(arg('seconds', '4')),
  side: Number(arg('side', '192')),
};
const FINAL = new Set(['succeeded', 'failed', 'cancelled']);

/** redis-server on `port`, append-only in `dir` (fsync every second, as a production default would). */
async function startRedis(port, dir) {
  fs.mkdirSync(dir, { recursive: true });
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec'];
  const proc = spawn('redis-server', [...args, '--save', '', '--protected-mode', 'yes'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const end = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`redis-server exited (${proc.exitCode}): is it installed (apt-get install redis-server)?`);
    try {
      execFileSync('redis-cli', ['-p', String(port), 'ping'], { stdio: 'pipe' });
      return proc;
    } catch {
      if (Date.now() > end) throw new Error('redis-server did not answer PING');
      await sleep(100);
    }
  }
}

async function json(res) {
  const body = await res.json().catch(() => undefined);
  if (!res.ok) throw new Error(`${res.url}: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body;
}

async function submit(api, avatarId, audio) {
  const form = new FormData();
  form.append('avatarId', avatarId);
  form.append('audio', new Blob([audio]), 'speech.wav');
  return (await json(await fetch(`${api}/v1/jobs`, { method: 'POST', body: form }))).id;
}

/** Polls until the job is final; `undefined` when it is not within `timeoutMs` (a lost job). */
async function final(api, id, timeoutMs, pollMs = 250, onSeen = () => undefined) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const j = await fetch(`${api}/v1/jobs/${id}`).then(
      (r) => (r.ok ? r.json() : undefined),
      () => undefined,
    );
    if (j) onSeen(j);
    if (j && FINAL.has(j.status)) return j;
    await sleep(pollMs);
  }
  return undefined;
}

function decodedFrames(file) {
  const args = ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file];
  try {
    return Number(execFileSync('ffprobe', args, { encoding: 'utf8' }).trim());
  } catch {
    return NaN;
  }
}

/** Mean of each render stage (ms) over the jobs' own timings: where a job's time went. */
function meanStages(jobs) {
  const sum = {};
  for (const j of jobs) for (const [k, v] of Object.entries(j.timings ?? {})) if (typeof v === 'number') sum[k] = (sum[k] ?? 0) + v;
  return Object.entries(sum)
    .map(([k, v]) => `${k} ${Math.round(v / jobs.length)}`)
    .join(', ');
}

const latencyMs = (j) => Date.parse(j.finishedAt) - Date.parse(j.createdAt);

/** One cluster: redis + 1 API + `n` workers; `run(ctx)` drives it; everything is stopped after. */
async function withCluster(n, tmp, run) {
  const dataDir = path.join(tmp, `data-${n}`);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const redisPort = await freePort();
  const procs = [];
  try {
    const redis = await startRedis(redisPort, path.join(tmp, `redis-${n}`));
    procs.push(redis);
    const env = (role) => ({
      QUEUE: 'redis',
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      ROLE: role,
      INFERENCE_BACKEND: 'fake',
      FAKE_BATCH_DELAY_MS: String(o.batchDelayMs),
      BATCH_SIZE: String(o.batchSize),
      JOB_CONCURRENCY: String(o.jobConcurrency),
      JOB_LOCK_MS: '3000',
      QUEUE_MAX: '1000',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: '1000000',
    });
    const apiPort = await freePort();
    const workerPorts = await Promise.all(Array.from({ length: n }, () => freePort()));
    const log = (name) => path.join(tmp, `${name}-${n}.log`);
    const [api, ...workers] = await Promise.all([
      startGateway({ port: apiPort, env: env('api'), cleanEnv: true, log: log('api') }),
      ...workerPorts.map((p, i) => startGateway({ port: p, env: env('worker'), cleanEnv: true, log: log(`worker-${i + 1}`) })),
    ]);
    procs.push(api, ...workers);
    return await run({ api: `http://127.0.0.1:${apiPort}`, apiProc: api, workers, redis, dataDir });
  } finally {
    for (const p of procs.reverse()) await stopProcess(p, 'SIGTERM', 10_000);
  }
}

async function prepareInputs(tmp) {
  const face = path.join(tmp, 'face.png');
  const sharp = require('sharp');
  await sharp(path.join(ROOT, 'test', 'fixtures', 'faces', 'astronaut.png'))
    .resize(o.side, o.side)
    .toFile(face);
  const speech = path.join(tmp, 'speech.wav');
  // a voiced tone is enough: the fake backend does not read the words
  execFileSync('ffmpeg', [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=220:duration=${o.seconds}`,
    '-ar',
    '16000',
    '-ac',
    '1',
    speech,
  ]);
  return { face: fs.readFileSync(face), audio: fs.readFileSync(speech) };
}

async function uploadAvatar(api, face) {
  const form = new FormData();
  form.append('file', new Blob([face]), 'face.png');
  return (await json(await fetch(`${api}/v1/avatars`, { method: 'POST', body: form }))).avatarId;
}

/** Closed loop: `clients` loops submit a job and wait for it, until `jobs` were submitted. */
async function throughput(ctx, inputs) {
  const avatarId = await uploadAvatar(ctx.api, inputs.face);
  // warm-up: one job per worker slot, not counted
  await Promise.all(
    Array.from({ length: ctx.workers.length * o.jobConcurrency }, async () =>
      final(ctx.api, await submit(ctx.api, avatarId, inputs.audio), 120_000),
    ),
  );
  const groups = { api: [ctx.apiProc], workers: ctx.workers, redis: [ctx.redis] };
  const cpuOf = () => Object.fromEntries(Object.entries(groups).map(([k, ps]) => [k, ps.reduce((a, p) => a + cpuSeconds(p.pid), 0)]));
  const cpu0 = cpuOf();
  const done = [];
  let started = 0;
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: o.clients }, async () => {
      while (started < o.jobs) {
        started++;
        // polled once a second: latency comes from the job's own timestamps, and the queue never runs dry (clients > slots)
        done.push(await final(ctx.api, await submit(ctx.api, avatarId, inputs.audio), 300_000, 1000));
      }
    }),
  );
  const wallS = (Date.now() - t0) / 1000;
  const cpu1 = cpuOf();
  const split = Object.fromEntries(Object.keys(groups).map((k) => [k, (cpu1[k] - cpu0[k]) / wallS]));
  const ok = done.filter((j) => j?.status === 'succeeded');
  const lat = ok.map(latencyMs);
  return {
    workers: ctx.workers.length,
    jobs: done.length,
    ok: ok.length,
    wallS,
    jobsPerS: ok.length / wallS,
    p50: percentile(lat, 50),
    p95: percentile(lat, 95),
    cores: split.api + split.workers + split.redis,
    stages: meanStages(ok),
    split,
  };
}

/** 2 workers, all jobs queued at once, one worker SIGKILLed once a tenth of them finished. */
async function killRun(ctx, inputs) {
  const avatarId = await uploadAvatar(ctx.api, inputs.face);
  const ids = [];
  for (let i = 0; i < o.jobs; i++) ids.push(await submit(ctx.api, avatarId, inputs.audio));
  const results = new Map();
  const seen = new Map();
  const watchers = ids.map((id) => final(ctx.api, id, 600_000, 250, (j) => seen.set(id, j.status)).then((j) => results.set(id, j)));
  while ([...results.values()].filter((j) => j?.status === 'succeeded').length < Math.ceil(o.jobs / 10)) await sleep(100);
  const victim = ctx.workers[0];
  const atKill = results.size;
  const runningAtKill = [...seen.values()].filter((s) => s === 'running').length;
  await stopProcess(victim, 'SIGKILL');
  await Promise.all(watchers);
  const all = [...results.values()];
  const succeeded = all.filter((j) => j?.status === 'succeeded');
  const expectedFrames = succeeded[0]?.result?.frames;
  // each result is a whole MP4: ffprobe decodes as many video frames as the job reports
  let goodMp4 = 0;
  for (const j of succeeded) {
    const file = path.join(ctx.dataDir, '..', `check-${j.id}.mp4`);
    fs.writeFileSync(file, Buffer.from(await (await fetch(`${ctx.api}/v1/jobs/${j.id}/result`)).arrayBuffer()));
    if (decodedFrames(file) === j.result.frames) goodMp4++;
    fs.rmSync(file, { force: true });
  }
  return {
    goodMp4,
    jobs: ids.length,
    finishedBeforeKill: atKill,
    runningAtKill,
    succeeded: succeeded.length,
    failed: all.filter((j) => j && j.status !== 'succeeded').map((j) => `${j.id}: ${j.status} ${j.error?.code ?? ''}`),
    lost: ids.length - all.filter(Boolean).length,
    sameFrameCount: succeeded.every((j) => j.result?.frames === expectedFrames),
  };
}

const fmt = (v, d = 0) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');

async function main() {
  requireBuild();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lipsync-bench-scale-'));
  try {
    const inputs = await prepareInputs(tmp);
    const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
    const shape = `fake backend ${o.batchDelayMs} ms per batch of ${o.batchSize}, ${o.seconds} s audio (${Math.round(o.seconds * 25)} frames), avatar ${o.side}², JOB_CONCURRENCY ${o.jobConcurrency}`;
    console.log(`bench-scale: ${cpu}, ${os.cpus().length} cores; ${shape}`);
    if (kill) {
      const r = await withCluster(2, tmp, (ctx) => killRun(ctx, inputs));
      console.log(
        `kill: ${r.jobs} jobs on 2 workers, one SIGKILLed after ${r.finishedBeforeKill} finished, with ${r.runningAtKill} running (${o.jobConcurrency} per worker)`,
      );
      console.log(
        `kill: succeeded ${r.succeeded}, failed ${r.failed.length}, lost ${r.lost}; MP4s decoding to their job's frame count: ${r.goodMp4}/${r.succeeded} (all jobs the same frame count: ${r.sameFrameCount})`,
      );
      if (r.failed.length) console.log(`kill: failed: ${r.failed.join(', ')}`);
      return r.failed.length === 0 && r.lost === 0 && r.sameFrameCount && r.goodMp4 === r.succeeded ? 0 : 3;
    }
    const rows = [];
    for (const n of o.workers) {
      const r = await withCluster(n, tmp, (ctx) => throughput(ctx, inputs));
      rows.push(r);
      console.log(
        `workers ${r.workers}: ${r.ok}/${r.jobs} jobs in ${fmt(r.wallS, 1)} s = ${fmt(r.jobsPerS, 2)} jobs/s, latency p50 ${fmt(r.p50)} ms p95 ${fmt(r.p95)} ms, CPU ${fmt(r.cores, 2)} cores busy (api ${fmt(r.split.api, 2)}, workers with their ffmpeg ${fmt(r.split.workers, 2)}, redis ${fmt(r.split.redis, 2)})\n  mean job stages (ms): ${r.stages}`,
      );
    }
    console.log('\n| workers | jobs/s | p50 ms | p95 ms | cores busy |\n|---|---|---|---|---|');
    for (const r of rows) console.log(`| ${r.workers} | ${fmt(r.jobsPerS, 2)} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${fmt(r.cores, 2)} |`);
    const one = rows.find((r) => r.workers === 1);
    const two = rows.find((r) => r.workers === 2);
    if (one && two) console.log(`\njobs/s 2 workers / 1 worker: ${fmt(two.jobsPerS / one.jobsPerS, 2)}× (goal ≥ 1.8×)`);
    return rows.every((r) => r.ok === r.jobs) ? 0 : 3;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  (code) => (process.exitCode = code),
  (err) => {
    console.error(`bench-scale: ${err.message}`);
    process.exitCode = 1;
  },
);
