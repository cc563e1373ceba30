import type { INestApplication } from '@nestjs/common';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import request from 'supertest';
import { AppConfig, loadConfig } from '../../gateway/src/config/config';
import { AppOverrides, createTestApp } from '../helpers/test-app';

export type { AppOverrides };

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const ASTRONAUT = path.resolve(REPO_ROOT, 'test', 'fixtures', 'faces', 'astronaut.png');

export interface TestApp {
  app: INestApplication;
  server: any;
  config: AppConfig;
  close(): Promise<void>;
}

/** A temp DATA_DIR for one test file. */
export function tempDataDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `lipsync-e2e-${tag}-`));
}

/** Builds and initialises the real app from an environment (validated like production). */
export async function startApp(env: Record<string, string>, overrides: AppOverrides = {}): Promise<TestApp> {
  const config = loadConfig({ RATE_LIMIT_PER_MINUTE: '10000', LOG_LEVEL: 'warn', ...env });
  const app = await createTestApp(config, { logger: ['error'], ...overrides });
  await app.init();
  return { app, server: app.getHttpServer(), config, close: () => app.close() };
}

export async function getJob(server: any, id: string, headers: Record<string, string> = {}): Promise<any> {
  const res = await request(server).get(`/v1/jobs/${id}`).set(headers);
  if (res.status !== 200) throw new Error(`GET job ${id}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Polls a job until `done(job)` holds (or it is final), every 100 ms. */
export async function pollJob(
  server: any,
  id: string,
  done: (job: any) => boolean = () => false,
  headers: Record<string, string> = {},
): Promise<any> {
  for (;;) {
    const job = await getJob(server, id, headers);
    if (done(job) || ['succeeded', 'failed', 'cancelled'].includes(job.status)) return job;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Collects a binary response body into a Buffer (supertest parser). */
export function binaryParser(res: any, cb: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
}

/** PIDs of this process's live child processes whose command is `name` (from /proc). */
export function childProcesses(name: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...; comm may contain spaces, so split after the last ')'.
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const state = fields[0];
      const ppid = Number(fields[1]);
      if (ppid === process.pid && comm === name && state !== 'Z') pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/** A deferred promise (tests hold renders at a gate). */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * Waits until `file` no longer exists, up to `ms`; true when it is gone. A job's final state is
 * stored before its files are removed (so a crash between the two cannot fail a finished job), so
 * a client may see the state a few ms before the folder goes.
 */
export async function untilGone(file: string, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (fs.existsSync(file)) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}
