import type { INestApplication } from '@nestjs/common';
import { promises as fs } from 'fs';
import type { AddressInfo } from 'net';
import * as path from 'path';
import WebSocket from 'ws';
import { createApp } from '../app.module';
import { envWith, loadConfig } from '../config/config';
import { Fmp4Scanner } from '../sessions/fmp4-scanner';

/**
 * Real-time figures through the real app on loopback (the configured backend, FP32 demo model by
 * default): a streamed job's time to first byte and to first decodable frame (cached avatar), and
 * a live session's audio-in → video-out latency and sustained frames/s per session batch size.
 */
export interface RealtimeBenchOptions {
  face: string;
  /** 16 kHz mono s16le WAV of speech */
  speechWav: string;
  /** also run the job streams with this text (espeak-ng in the job), after the audio ones */
  speechText?: string;
  work: string;
  batchSizes: number[];
  sessionSeconds: number;
  /** live sessions' fps (default 25); 16000 / fps must be whole samples */
  sessionFps?: number;
  /** frames/s of the backend alone at a batch size (measured right after each session, same load) */
  modelOnlyFps?: (batch: number) => Promise<number>;
}

export interface JobStreamFigures {
  /** what the job was given: an audio file or text to speak */
  input: 'audio' | 'text';
  /** ms after the POST (client clock) */
  acceptedMs: number;
  /** the render's start (the job's startedAt, wall clock) */
  renderStartMs: number;
  /** the /stream response's headers */
  headersMs: number;
  firstByteMs: number;
  firstFrameMs: number;
  doneMs: number;
  firstFrameTiming?: number;
  timings: Record<string, number>;
  /** the render's milestones, ms from its start (RenderMilestones) */
  marks: Record<string, number>;
}

export interface SessionFigures {
  batch: number;
  fps: number;
  frames: number;
  p50: number;
  p95: number;
  framesPerSecond: number;
  dropped: number;
  /** the same batch size through a fresh backend with nothing else running (frames/s), for the ratio */
  modelOnlyFps?: number;
}

async function startApp(work: string, env: Record<string, string>): Promise<{ app: INestApplication; base: string }> {
  const config = loadConfig(
    envWith({ DATA_DIR: path.join(work, 'data'), RATE_LIMIT_PER_MINUTE: '100000', API_KEYS: '', LOG_LEVEL: 'error', ...env }),
  );
  const app = await createApp(config, { logger: ['error'] });
  await app.listen(0, '127.0.0.1');
  // eslint-disable-next-line @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access -- Nest types the HTTP server as any
  const port = (app.getHttpServer().address() as AddressInfo).port;
  return { app, base: `127.0.0.1:${port}` };
}

async function uploadAvatar(base: string, face: string): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob([await fs.readFile(face)]), path.basename(face));
  const res = await fetch(`http://${base}/v1/avatars`, { method: 'POST', body: form });
  if (!res.ok) throw new Error(`avatar upload: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { avatarId: string }).avatarId;
}

/**
 * POST `runs` stream=true jobs one after another on a cached avatar, each read through /stream: ms
 * from the POST to the 202, the render's start, the stream's headers, its first byte and first
 * complete frame (the first run in a fresh process also pays the backend's first inference); then
 * as many text jobs when `speechText` is set.
 */
export async function benchJobStream(o: RealtimeBenchOptions, runs = 1): Promise<JobStreamFigures[]> {
  const { app, base } = await startApp(o.work, {});
  try {
    const avatarId = await uploadAvatar(base, o.face);
    const audio = new Uint8Array(await fs.readFile(o.speechWav));
    const out: JobStreamFigures[] = [];
    for (let r = 0; r < runs; r++) out.push(await oneJobStream(base, avatarId, { audio }));
    for (let r = 0; o.speechText && r < runs; r++) out.push(await oneJobStream(base, avatarId, { text: o.speechText }));
    return out;
  } finally {
    await app.close();
  }
}

async function oneJobStream(
  base: string,
  avatarId: string,
  input: { audio: Uint8Array<ArrayBuffer> } | { text: string },
): Promise<JobStreamFigures> {
  const form = new FormData();
  form.append('avatarId', avatarId);
  form.append('stream', 'true');
  if ('text' in input) form.append('text', input.text);
  else form.append('audio', new Blob([input.audio], { type: 'audio/wav' }), 'speech.wav');
  const wall0 = Date.now();
  const t0 = performance.now();
  const res = await fetch(`http://${base}/v1/jobs`, { method: 'POST', body: form });
  if (res.status !== 202) throw new Error(`job: ${res.status} ${await res.text()}`);
  const { id } = (await res.json()) as { id: string };
  const acceptedMs = performance.now() - t0;
  const stream = await fetch(`http://${base}/v1/jobs/${id}/stream`);
  const headersMs = performance.now() - t0;
  const scanner = new Fmp4Scanner();
  let firstByteMs = NaN;
  let firstFrameMs = NaN;
  for await (const chunk of stream.body as unknown as AsyncIterable<Uint8Array>) {
    if (Number.isNaN(firstByteMs)) firstByteMs = performance.now() - t0;
    scanner.push(chunk);
    if (Number.isNaN(firstFrameMs) && scanner.samples(1) > 0) firstFrameMs = performance.now() - t0;
  }
  const doneMs = performance.now() - t0;
  const job = (await (await fetch(`http://${base}/v1/jobs/${id}`)).json()) as {
    startedAt: string;
    timings: Record<string, number> & { marks?: Record<string, number> };
  };
  const { marks, ...timings } = job.timings;
  return {
    input: 'text' in input ? 'text' : 'audio',
    acceptedMs,
    renderStartMs: Date.parse(job.startedAt) - wall0,
    headersMs,
    firstByteMs,
    firstFrameMs,
    doneMs,
    firstFrameTiming: timings.firstFrame,
    timings,
    marks: marks ?? {},
  };
}

/** One live session per batch size: the speech sent at real-time pace; latency = the client's send of a frame's last sample → the client holding that frame's fragment. */
export async function benchSessions(o: RealtimeBenchOptions, pcm: Buffer, log: (line: string) => void): Promise<SessionFigures[]> {
  const rows: SessionFigures[] = [];
  for (const batch of o.batchSizes) {
    // no drops: the bench measures what the backend sustains
    const { app, base } = await startApp(o.work, {
      SESSION_BATCH_SIZE: String(batch),
      SESSION_MAX_LAG_MS: '600000',
      SESSION_MAX_SECONDS: '3600',
    });
    let row: SessionFigures;
    try {
      const avatarId = await uploadAvatar(base, o.face);
      const res = await fetch(`http://${base}/v1/sessions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ avatarId, fps: o.sessionFps ?? 25 }),
      });
      const session = (await res.json()) as { id: string };
      row = await runSession(
        `ws://${base}/v1/sessions/${session.id}/ws`,
        pcm.subarray(0, Math.round(o.sessionSeconds * 16000) * 2),
        batch,
        o.sessionFps ?? 25,
      );
    } finally {
      await app.close();
    }
    row.modelOnlyFps = await o.modelOnlyFps?.(batch);
    rows.push(row);
    log(formatSession(row));
  }
  return rows;
}

function runSession(url: string, pcm: Buffer, batch: number, fps: number): Promise<SessionFigures> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const scanner = new Fmp4Scanner();
    const frameBytes = (2 * 16000) / fps; // one frame's PCM (1280 bytes at 25 fps)
    const frameMs = 1000 / fps;
    const sentAt: number[] = []; // frame i's audio complete at this time
    const latencies: number[] = [];
    let t0 = 0;
    let lastOut = 0;
    ws.on('message', (data, isBinary) => {
      if (!isBinary) {
        // eslint-disable-next-line @typescript-eslint/no-base-to-string -- text frames arrive as a Buffer
        const e = JSON.parse(data.toString()) as { type: string; speechFrames?: number; droppedFrames?: number; message?: string };
        if (e.type === 'ready') void send();
        if (e.type === 'error' && (e as { fatal?: boolean }).fatal) reject(new Error(`session error: ${e.message}`));
        if (e.type === 'ended') {
          const sorted = [...latencies].sort((a, b) => a - b);
          const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
          resolve({
            batch,
            fps,
            frames: e.speechFrames ?? 0,
            p50: q(0.5),
            p95: q(0.95),
            framesPerSecond: (e.speechFrames ?? 0) / ((lastOut - t0) / 1000),
            dropped: e.droppedFrames ?? 0,
          });
          ws.close();
        }
        return;
      }
      const before = scanner.samples(1);
      scanner.push(data as Buffer);
      const now = performance.now();
      for (let i = before; i < scanner.samples(1); i++) if (sentAt[i] !== undefined) latencies.push(now - sentAt[i]);
      lastOut = now;
    });
    ws.on('error', reject);
    const send = async () => {
      t0 = performance.now();
      for (let k = 0, o = 0; o < pcm.length; k++, o += frameBytes) {
        ws.send(pcm.subarray(o, o + frameBytes));
        sentAt[k] = performance.now();
        await new Promise((r) => setTimeout(r, Math.max(0, t0 + (k + 1) * frameMs - performance.now())));
      }
      ws.send(JSON.stringify({ type: 'end' }));
    };
  });
}

export function formatJobStream(f: JobStreamFigures, label = ''): string {
  const at = (ms: number | undefined) => (ms === undefined ? '?' : (f.renderStartMs + ms).toFixed(0));
  const m = f.marks;
  return (
    `job stream${label} (${f.input}, cached avatar, stream=true): first byte ${f.firstByteMs.toFixed(0)} ms after the POST (goal ≤ 300), ` +
    `first decodable frame ${f.firstFrameMs.toFixed(0)} ms, whole stream ${f.doneMs.toFixed(0)} ms\n` +
    `  critical path (ms after the POST): 202 ${f.acceptedMs.toFixed(0)}, render start ${f.renderStartMs}, ` +
    `avatar ready ${at(m.avatarReady)}, audio ${f.input === 'text' ? 'spoken and ' : ''}decoded ${at(m.audioReady)}, ` +
    `encoder spawned ${at(m.encoderStarted)}, first batch inferred ${at(m.firstBatch)}, first frame to the encoder ${at(f.firstFrameTiming)}, ` +
    `output started ${at(m.outputStarted)}, stream headers ${f.headersMs.toFixed(0)}, first byte ${f.firstByteMs.toFixed(0)}\n` +
    `  job timings (ms, busy time per stage): ${Object.entries(f.timings)
      .map(([k, v]) => `${k} ${Math.round(v)}`)
      .join(', ')}`
  );
}

export function formatSession(r: SessionFigures): string {
  return (
    `live session, batch ${r.batch}: ${r.frames} speech frames, audio-in → video-out p50 ${r.p50.toFixed(0)} ms, p95 ${r.p95.toFixed(0)} ms ` +
    `(200 ms of it is the mel look-ahead), sustained ${r.framesPerSecond.toFixed(1)} frames/s (real time = ${r.fps}), dropped ${r.dropped}` +
    (r.modelOnlyFps
      ? `; model alone ${r.modelOnlyFps.toFixed(1)} frames/s → session / model-only ${(r.framesPerSecond / r.modelOnlyFps).toFixed(2)}`
      : '')
  );
}
