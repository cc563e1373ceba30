import { promises as fs } from 'fs';
import * as path from 'path';
import { SAMPLE_RATE } from '../audio/audio.constants';
import { GatewayError, toGatewayError } from '../common/errors';
import { REMOTE_INFER_DEPTH, type InferenceBackend } from '../inference/inference-backend';
import type { FfmpegProcess, FfmpegRunner } from '../media/ffmpeg-runner';
import type { VideoEncoder } from '../render/encoder-args';
import { AvatarView, sourceFrameAt } from '../render/render-pipeline';
import type { SpeechSynthesizer } from '../speech/speech-synthesizer';
import { Fmp4Scanner } from './fmp4-scanner';
import { IncrementalMel } from './incremental-mel';
import { floatToS16, pcmFromMessage, s16ToFloat, SampleQueue } from './pcm-chunks';
import { buildSessionEncodeArgs, h264Level, sessionMime, sessionOutputSize } from './session-encode-args';
import { SessionFrames } from './session-frames';
import { closeCodeFor, emptyTotals, parseClientMessage, SessionEvent, SessionTotals } from './session-protocol';
import { SessionTimeline, Slot } from './session-timeline';

/** Where a session's output goes (the WebSocket). `binary` returns false when the reader is too slow. */
export interface SessionSink {
  binary(chunk: Buffer): boolean;
  event(e: SessionEvent): void;
  close(code: number, reason: string): void;
}

export interface SessionObserver {
  latency?(ms: number): void;
  frame?(kind: 'speech' | 'idle' | 'dropped' | 'late'): void;
}

export interface LiveSessionDeps {
  runner: FfmpegRunner;
  backend: InferenceBackend;
  avatar: AvatarView;
  frameIndex: (i: number, frameCount: number, mode: 'loop' | 'pingpong') => number;
  speech: SpeechSynthesizer;
  /** decodes a WAV to 16 kHz mono float32 */
  decode: (file: string, signal: AbortSignal) => Promise<Float32Array>;
  /** the session's own temp folder (spoken text); created and removed by the session */
  tmpDir: string;
  now?: () => number;
  observer?: SessionObserver;
}

export interface LiveSessionSettings {
  id: string;
  fps: number;
  outputHeight?: number;
  voice?: string;
  encoder: VideoEncoder;
  batchSize: number;
  idleAfterMs: number;
  /** longest timeline (s) */
  maxSeconds: number;
  /** a session with no client message for this long ends (SESSION_TIMEOUT) */
  idleTimeoutMs: number;
  maxLagMs: number;
  lateAfterMs: number;
  inferDeadlineMs?: number;
  /** container tags of the stream (synthetic mark, model, licence) */
  metadata?: Record<string, string>;
}

type State = 'new' | 'live' | 'ending' | 'ended';

/**
 * One live session: PCM and text in, one fragmented MP4 out (architecture of issue 12 in
 * README "Live sessions"). The timeline runs at the session fps from start(): speech claims
 * frames as it arrives, idle frames fill the gaps; one ffmpeg encodes frames and audio together.
 */
export class LiveSession {
  private state: State = 'new';
  private readonly now: () => number;
  private readonly timeline: SessionTimeline;
  private readonly mel: IncrementalMel;
  private readonly queue = new SampleQueue();
  private readonly scanner = new Fmp4Scanner();
  private enc?: FfmpegProcess;
  private frames?: SessionFrames;
  private timer?: NodeJS.Timeout;
  private lastMessageAt: number;
  private sayChain: Promise<void> = Promise.resolve();
  private says = 0;
  private readonly abort = new AbortController();
  private readonly awaitingOut: Slot[] = [];
  private readonly totals: SessionTotals = emptyTotals();
  private audioSamples = 0;
  readonly width: number;
  readonly height: number;
  readonly mime: string;
  /** resolves once the session is over and everything it held is released */
  readonly closed: Promise<void>;
  private markClosed!: () => void;

  constructor(
    private readonly deps: LiveSessionDeps,
    readonly settings: LiveSessionSettings,
    private readonly sink: SessionSink,
  ) {
    this.now = deps.now ?? (() => performance.now());
    this.lastMessageAt = this.now();
    this.timeline = new SessionTimeline({ fps: settings.fps, startMs: this.now(), idleAfterMs: settings.idleAfterMs });
    this.mel = new IncrementalMel(settings.fps);
    const out = sessionOutputSize({ width: deps.avatar.width, height: deps.avatar.height, outputHeight: settings.outputHeight });
    this.width = out.width;
    this.height = out.height;
    this.mime = sessionMime(h264Level(out.width, out.height, settings.fps));
    this.closed = new Promise((r) => (this.markClosed = r));
  }

  get status(): State {
    return this.state;
  }

  stats(): SessionTotals {
    return { ...this.totals, audioSeconds: this.audioSamples / SAMPLE_RATE, durationSeconds: this.timeline.seconds };
  }

  /** Starts ffmpeg and the frame clock, then says `ready`. */
  async start(): Promise<void> {
    const { avatar, runner, backend } = this.deps;
    await fs.mkdir(this.deps.tmpDir, { recursive: true });
    this.enc = runner.open(
      buildSessionEncodeArgs({
        width: avatar.width,
        height: avatar.height,
        fps: this.settings.fps,
        encoder: this.settings.encoder,
        outputHeight: this.settings.outputHeight,
        metadata: this.settings.metadata,
      }),
      { signal: this.abort.signal, extraInputs: 1 },
    );
    this.enc.stdout.on('data', (c: Buffer) => this.onOutput(c));
    void this.enc.exited.then(() => {
      if (this.state === 'live') this.fail(new GatewayError('FFMPEG_FAILED', 'the session encoder stopped'));
    });
    this.frames = new SessionFrames(this.enc, backend, avatar, this.mel, {
      fps: this.settings.fps,
      batchSize: this.settings.batchSize,
      depth: backend.kind === 'triton' ? REMOTE_INFER_DEPTH : 1,
      maxLagMs: this.settings.maxLagMs,
      inferDeadlineMs: this.settings.inferDeadlineMs,
      sourceFrame: (i) => this.deps.frameIndex(sourceFrameAt(i, this.settings.fps, avatar.fps), avatar.frameCount, 'loop'),
      now: this.now,
      onWritten: (slot, dropped) => this.onWritten(slot, dropped),
      onFailure: (err) => this.fail(err),
    });
    this.state = 'live';
    this.sink.event({
      type: 'ready',
      id: this.settings.id,
      mime: this.mime,
      fps: this.settings.fps,
      width: this.width,
      height: this.height,
      sampleRate: SAMPLE_RATE,
      idleAfterMs: this.settings.idleAfterMs,
    });
    const period = Math.max(5, Math.floor(500 / this.settings.fps));
    this.timer = setInterval(() => this.tick(), period);
  }

  /** A binary message: PCM s16le. */
  onBinary(buf: Buffer): void {
    this.lastMessageAt = this.now();
    if (this.state !== 'live') return;
    try {
      this.addAudio(pcmFromMessage(buf));
    } catch (err) {
      this.reject(err);
    }
  }

  /** A text message: say / end. */
  onText(raw: string): void {
    this.lastMessageAt = this.now();
    if (this.state !== 'live') return;
    try {
      const msg = parseClientMessage(raw);
      if (msg.type === 'end') void this.end();
      else this.say(msg.text);
    } catch (err) {
      this.reject(err);
    }
  }

  /** Flushes what is buffered, sends the rest, says `ended` and closes (1000, or 4408 after a timeout). */
  async end(code: 'ENDED' | 'SESSION_TIMEOUT' = 'ENDED'): Promise<void> {
    if (this.state !== 'live') return;
    this.state = 'ending';
    try {
      await this.sayChain;
      this.place(this.timeline.flush());
      this.mel.finish();
      this.frames!.pump();
      await this.frames!.drained();
      if (this.abort.signal.aborted) return;
      clearInterval(this.timer);
      await this.enc!.end();
      this.enc = undefined;
      this.drainLatency();
      this.sink.event({ type: 'ended', ...this.stats() });
      await this.release(code, code === 'ENDED' ? 'ended' : 'timeout');
    } catch (err) {
      this.fail(toGatewayError(err));
    }
  }

  /** Stops at once (client gone, DELETE, shutdown): ffmpeg killed, temp files removed. */
  async stop(code: 'ENDED' | 'SHUTDOWN' | 'SESSION_TIMEOUT' = 'ENDED', reason = 'stopped'): Promise<void> {
    await this.release(code, reason);
  }

  private say(text: string): void {
    const clean = this.deps.speech.validate({ text, voice: this.settings.voice });
    const file = path.join(this.deps.tmpDir, `say-${++this.says}.wav`);
    this.sayChain = this.sayChain.then(async () => {
      try {
        await this.deps.speech.synthesize({ text: clean, voice: this.settings.voice }, file, this.abort.signal);
        const pcm = await this.deps.decode(file, this.abort.signal);
        if (this.state === 'live' || this.state === 'ending') this.addAudio(floatToS16(pcm));
      } catch (err) {
        if (!this.abort.signal.aborted) this.reject(err);
      } finally {
        await fs.rm(file, { force: true });
      }
    });
  }

  private addAudio(samples: Int16Array): void {
    const limit = this.settings.maxSeconds * SAMPLE_RATE;
    if (this.timeline.sampleAt(this.timeline.length) + this.queue.length + samples.length > limit) {
      this.sink.event({
        type: 'error',
        code: 'AUDIO_TOO_LONG',
        message: `a session holds at most ${this.settings.maxSeconds} s`,
        fatal: true,
      });
      void this.end();
      return;
    }
    this.audioSamples += samples.length;
    this.queue.push(samples);
    this.place(this.timeline.addSpeech(samples.length, this.now()));
    this.frames!.pump();
  }

  private tick(): void {
    if (this.state !== 'live') return;
    if (this.now() - this.lastMessageAt > this.settings.idleTimeoutMs) {
      this.sink.event({
        type: 'error',
        code: 'SESSION_TIMEOUT',
        message: `no message for ${Math.round(this.settings.idleTimeoutMs / 1000)} s`,
        fatal: true,
      });
      void this.end('SESSION_TIMEOUT');
      return;
    }
    const slots = this.timeline.tick(this.now());
    if (slots.length === 0) return;
    this.place(slots);
    this.frames!.pump();
  }

  /** Slots join the frame queue with their audio; the timeline's audio also feeds the mel. */
  private place(slots: Slot[]): void {
    for (const slot of slots) {
      const audio = new Int16Array(slot.speech + slot.silence);
      audio.set(this.queue.take(slot.speech));
      this.mel.push(s16ToFloat(audio));
      this.frames!.add(slot, audio);
    }
  }

  private onWritten(slot: Slot, dropped: boolean): void {
    this.totals.frames++;
    if (slot.kind === 'idle') this.totals.idleFrames++;
    else this.totals.speechFrames++;
    if (dropped) this.totals.droppedFrames++;
    this.deps.observer?.frame?.(dropped ? 'dropped' : slot.kind);
    if (slot.kind === 'speech' && !dropped) this.awaitingOut.push(slot);
  }

  private onOutput(chunk: Buffer): void {
    if (this.state === 'ended') return;
    this.scanner.push(chunk);
    if (!this.sink.binary(chunk)) {
      this.fail(new GatewayError('SLOW_CONSUMER', 'the client reads the stream too slowly; the session was closed'));
      return;
    }
    this.drainLatency();
  }

  /** Speech frames whose fragment has left: audio-in → video-out latency. Video is track 1 (mapped first). */
  private drainLatency(): void {
    const out = this.scanner.samples(1);
    const now = this.now();
    while (this.awaitingOut.length && this.awaitingOut[0].index < out) {
      const ms = now - this.awaitingOut.shift()!.at;
      this.deps.observer?.latency?.(ms);
      if (ms > this.settings.lateAfterMs) {
        this.totals.lateFrames++;
        this.deps.observer?.frame?.('late');
      }
    }
  }

  /** A bad client message: an error event; the session goes on. */
  private reject(err: unknown): void {
    const gw = toGatewayError(err);
    this.sink.event({ type: 'error', code: gw.code, message: gw.code === 'INTERNAL' ? 'internal error' : gw.message, fatal: false });
  }

  private fail(err: GatewayError): void {
    if (this.state === 'ended') return;
    const internal = ['INTERNAL', 'FFMPEG_FAILED'].includes(err.code);
    this.sink.event({
      type: 'error',
      code: err.code,
      message: internal ? 'the session failed (see the server log)' : err.message,
      fatal: true,
    });
    void this.release(err.code, err.code.toLowerCase());
  }

  private async release(code: Parameters<typeof closeCodeFor>[0], reason: string): Promise<void> {
    if (this.state === 'ended') return this.closed;
    this.state = 'ended';
    clearInterval(this.timer);
    this.abort.abort();
    this.frames?.stop();
    try {
      await this.enc?.kill();
      await fs.rm(this.deps.tmpDir, { recursive: true, force: true });
    } finally {
      this.sink.close(closeCodeFor(code), reason);
      this.markClosed();
    }
  }
}
