// Shared pieces of the scripts/bench-*.js benches: flags, free loopback ports, starting the built
// gateway (dist/main.js) and stopping what they started. Loopback only.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const path = require('path');

const ROOT = path.resolve(__dirname, '..', '..');
const MAIN = path.join(ROOT, 'dist', 'main.js');

/** `--name value` from argv, else `dflt`. */
function arg(name, dflt, argv = process.argv) {
  const i = argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < argv.length ? argv[i + 1] : dflt;
}

/** `--name` present in argv. */
function flag(name, argv = process.argv) {
  return argv.includes(`--${name}`);
}

/** A free TCP port on 127.0.0.1 (the OS picks it; released before use). */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Fails unless `npm run build` made dist/main.js. */
function requireBuild() {
  if (!fs.existsSync(MAIN)) throw new Error('run `npm run build` first');
  return MAIN;
}

/** Polls `url` until it answers 2xx; fails when `proc` exits first or after `timeoutMs`. */
async function waitReady(url, proc, timeoutMs = 180_000, what = 'the gateway') {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (proc && proc.exitCode !== null) throw new Error(`${what} exited (${proc.exitCode})`);
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > end) throw new Error(`${what} did not become ready within ${timeoutMs} ms`);
    await sleep(200);
  }
}

/**
 * Starts `node dist/main.js` on `port` with `env` on top of this process's environment and waits
 * for /readyz. `stdio` defaults to stderr only; `log` (a file path) takes stdout and stderr instead.
 */
async function startGateway({ port, env = {}, log, stdio, cleanEnv = false, timeoutMs }) {
  requireBuild();
  let fd;
  if (log) fd = fs.openSync(log, 'a');
  const base = cleanEnv ? { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' } : process.env;
  const proc = spawn(process.execPath, [MAIN], {
    cwd: ROOT,
    env: { ...base, ...env, PORT: String(port) },
    stdio: fd !== undefined ? ['ignore', fd, fd] : (stdio ?? ['ignore', 'ignore', 'inherit']),
  });
  if (fd !== undefined) fs.closeSync(fd);
  await waitReady(`http://127.0.0.1:${port}/readyz`, proc, timeoutMs, `gateway on :${port}`);
  return proc;
}

/** Sends `signal` (SIGTERM by default) and waits for the exit; SIGKILL after `graceMs`. */
function stopProcess(proc, signal = 'SIGTERM', graceMs = 20_000) {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    proc.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    proc.kill(signal);
  });
}

/** CPU seconds a process and its reaped children (ffmpeg) used so far, from /proc (Linux). */
function cpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields 14..17 of stat (utime stime cutime cstime) are 11..14 after the ")"
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
  } catch {
    return NaN;
  }
}

/** Percentile with linear interpolation between closest ranks (p in 0..100). */
function percentile(values, p) {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (s.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return s[lo] + (s[hi] - s[lo]) * (rank - lo);
}

module.exports = { ROOT, MAIN, arg, flag, freePort, sleep, requireBuild, waitReady, startGateway, stopProcess, cpuSeconds, percentile };
