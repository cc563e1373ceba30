import { Logger } from '@nestjs/common';
import { randomUUID } from 'crypto';
import * as path from 'path';
import { GatewayError } from '../common/errors';
import { DEFAULT_SESSIONS_CONFIG, SessionsConfig } from '../config/config';
import type { InferenceBackend } from '../inference/inference-backend';
import type { FfmpegRunner } from '../media/ffmpeg-runner';
import type { VideoEncoder } from '../render/encoder-args';
import type { AvatarView } from '../render/render-pipeline';
import type { SpeechSynthesizer } from '../speech/speech-synthesizer';
import { LiveSession, SessionObserver, SessionSink } from './live-session';
import { h264Level, sessionMime, sessionOutputSize } from './session-encode-args';
import { emptyTotals, SessionTotals } from './session-protocol';

export interface SessionsDeps {
  config?: SessionsConfig;
  dataDir: string;
  runner: FfmpegRunner;
  backend: InferenceBackend;
  /** the stored face of an avatar (NOT_FOUND when unknown) */
  facePath(avatarId: string): string;
  /** the avatar prepared (cached: no detection after the first time) */
  prepare(facePath: string): Promise<AvatarView>;
  frameIndex: (i: number, frameCount: number, mode: 'loop' | 'pingpong') => number;
  speech: SpeechSynthesizer;
  decode: (file: string, signal: AbortSignal) => Promise<Float32Array>;
  encoder: VideoEncoder;
  inferDeadlineMs?: number;
  /** container tags every session stream carries (output-metadata.ts) */
  metadata?: Record<string, string>;
  observer?: SessionObserver & { sessionsChanged?(delta: 1 | -1): void };
}

export interface CreateSessionInput {
  avatarId: string;
  fps?: number;
  outputHeight?: number;
  voice?: string;
}

export type SessionStatus = 'created' | 'live' | 'ended';

export interface SessionView {
  id: string;
  avatarId: string;
  status: SessionStatus;
  fps: number;
  width: number;
  height: number;
  mime: string;
  voice?: string;
  createdAt: string;
  endedAt?: string;
  totals: SessionTotals;
  links: { ws: string; self: string };
}

interface Entry {
  view: Omit<SessionView, 'totals' | 'status' | 'links'>;
  status: SessionStatus;
  settings: { outputHeight?: number };
  avatar: AvatarView;
  live?: LiveSession;
  timer?: NodeJS.Timeout;
  totals?: SessionTotals;
}

const ENDED_KEEP_MS = 5 * 60_000;
const ENDED_KEEP_MAX = 100;
const LATE_AFTER_MS = 1000;

/**
 * Live sessions: admission (MAX_SESSIONS, backend ready, avatar known and prepared), one
 * WebSocket per session, limits (idle timeout, maximum duration) and cleanup. Ended sessions stay
 * readable (GET) for a few minutes. No Nest dependency.
 */
export class SessionsService {
  private readonly log = new Logger(SessionsService.name);
  private readonly entries = new Map<string, Entry>();
  private readonly cfg: SessionsConfig;
  private closing = false;

  constructor(private readonly deps: SessionsDeps) {
    this.cfg = deps.config ?? DEFAULT_SESSIONS_CONFIG;
  }

  get active(): number {
    return [...this.entries.values()].filter((e) => e.status !== 'ended').length;
  }

  async create(input: CreateSessionInput): Promise<SessionView> {
    if (this.closing) throw new GatewayError('BACKEND_UNAVAILABLE', 'the server is shutting down');
    if (this.active >= this.cfg.maxSessions)
      throw new GatewayError('SESSION_LIMIT', `at most ${this.cfg.maxSessions} live sessions at once`);
    const ready = this.deps.backend.readiness();
    if (!ready.ready)
      throw new GatewayError(
        'BACKEND_UNAVAILABLE',
        `inference backend '${this.deps.backend.kind}' is not ready: ${ready.reason ?? 'unknown reason'}`,
      );
    const avatar = await this.deps.prepare(this.deps.facePath(input.avatarId));
    const fps = input.fps ?? 25;
    const size = sessionOutputSize({ width: avatar.width, height: avatar.height, outputHeight: input.outputHeight });
    const mime = sessionMime(h264Level(size.width, size.height, fps));
    // checked again: the avatar was prepared while others may have been admitted
    if (this.active >= this.cfg.maxSessions)
      throw new GatewayError('SESSION_LIMIT', `at most ${this.cfg.maxSessions} live sessions at once`);
    const id = randomUUID();
    const entry: Entry = {
      view: {
        id,
        avatarId: input.avatarId,
        fps,
        width: size.width,
        height: size.height,
        mime,
        voice: input.voice,
        createdAt: new Date().toISOString(),
      },
      status: 'created',
      settings: { outputHeight: input.outputHeight },
      avatar,
    };
    this.entries.set(id, entry);
    this.deps.observer?.sessionsChanged?.(1);
    // a session nobody connects to expires like an idle one
    entry.timer = setTimeout(() => void this.finish(id), this.cfg.idleTimeoutSeconds * 1000);
    entry.timer.unref();
    return this.view(entry);
  }

  get(id: string): SessionView {
    return this.view(this.mustGet(id));
  }

  /** Connects the session's WebSocket: starts its encoder and clock. One connection per session. */
  async attach(id: string, sink: SessionSink): Promise<LiveSession> {
    const entry = this.mustGet(id);
    if (this.closing) throw new GatewayError('BACKEND_UNAVAILABLE', 'the server is shutting down');
    if (entry.status !== 'created')
      throw new GatewayError('CONFLICT', `session ${id} is ${entry.status === 'live' ? 'already connected' : 'over'}`);
    if (!this.deps.backend.readiness().ready)
      throw new GatewayError('BACKEND_UNAVAILABLE', `inference backend '${this.deps.backend.kind}' is not ready`);
    clearTimeout(entry.timer);
    const d = this.deps;
    const live = new LiveSession(
      {
        runner: d.runner,
        backend: d.backend,
        avatar: entry.avatar,
        frameIndex: d.frameIndex,
        speech: d.speech,
        decode: d.decode,
        tmpDir: path.join(d.dataDir, 'sessions', id),
        observer: d.observer,
      },
      {
        id,
        fps: entry.view.fps,
        outputHeight: entry.settings.outputHeight,
        voice: entry.view.voice,
        encoder: d.encoder,
        batchSize: this.cfg.batchSize,
        idleAfterMs: this.cfg.idleAfterMs,
        maxSeconds: this.cfg.maxSeconds,
        idleTimeoutMs: this.cfg.idleTimeoutSeconds * 1000,
        maxLagMs: this.cfg.maxLagMs,
        lateAfterMs: LATE_AFTER_MS,
        inferDeadlineMs: d.inferDeadlineMs,
        metadata: d.metadata,
      },
      sink,
    );
    entry.live = live;
    entry.status = 'live';
    void live.closed.then(() => this.finish(id));
    entry.timer = setTimeout(() => {
      sink.event({ type: 'error', code: 'SESSION_TIMEOUT', message: `a session lasts at most ${this.cfg.maxSeconds} s`, fatal: true });
      void live.end('SESSION_TIMEOUT');
    }, this.cfg.maxSeconds * 1000);
    entry.timer.unref();
    try {
      await live.start();
    } catch (err) {
      await live.stop();
      throw err;
    }
    return live;
  }

  /** DELETE: ends the session at once (the socket closes, ffmpeg is killed, temp files go). */
  async remove(id: string): Promise<void> {
    const entry = this.mustGet(id);
    await this.finish(id);
    this.entries.delete(entry.view.id);
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(
      [...this.entries.values()].map((e) => (e.live ? e.live.stop('SHUTDOWN', 'server shutting down') : Promise.resolve())),
    );
    for (const e of this.entries.values()) clearTimeout(e.timer);
  }

  private async finish(id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry || entry.status === 'ended') return;
    entry.status = 'ended';
    clearTimeout(entry.timer);
    this.deps.observer?.sessionsChanged?.(-1);
    entry.view.endedAt = new Date().toISOString();
    if (entry.live) {
      await entry.live.stop();
      entry.totals = entry.live.stats();
      entry.live = undefined;
      this.log.log(`session ${id} ended: ${JSON.stringify(entry.totals)}`);
    }
    entry.timer = setTimeout(() => this.entries.delete(id), ENDED_KEEP_MS);
    entry.timer.unref();
    this.pruneEnded();
  }

  private pruneEnded(): void {
    const ended = [...this.entries.values()].filter((e) => e.status === 'ended');
    for (const e of ended.slice(0, Math.max(0, ended.length - ENDED_KEEP_MAX))) {
      clearTimeout(e.timer);
      this.entries.delete(e.view.id);
    }
  }

  private mustGet(id: string): Entry {
    const entry = this.entries.get(id);
    if (!entry) throw new GatewayError('NOT_FOUND', `session ${id.slice(0, 64)} does not exist (or ended a while ago)`);
    return entry;
  }

  private view(e: Entry): SessionView {
    const totals = e.live ? e.live.stats() : (e.totals ?? emptyTotals());
    const links = { self: `/v1/sessions/${e.view.id}`, ws: `/v1/sessions/${e.view.id}/ws` };
    return { ...e.view, status: e.status, totals, links };
  }
}
