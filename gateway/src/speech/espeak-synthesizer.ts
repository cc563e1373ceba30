import { spawn } from 'child_process';
import * as fs from 'fs';
import { GatewayError } from '../common/errors';
import {
  DEFAULT_SPEECH_LIMITS,
  SpeechLimits,
  SpeechRequest,
  SpeechResult,
  SpeechSynthesizer,
  validateSpeechInput,
} from './speech-synthesizer';

export interface EspeakOptions {
  /** executable, default `espeak-ng` */
  binary?: string;
  defaultVoice?: string;
  defaultRate?: number;
  limits?: SpeechLimits;
  timeoutMs?: number;
}

/** The espeak-ng argument list; text is NOT in it (it goes through stdin, so it can never be read as an option). */
export function espeakArgs(voice: string, rate: number, outPath: string): string[] {
  return ['-v', voice, '-s', String(rate), '-b', '1', '--stdin', '-w', outPath];
}

/**
 * espeak-ng behind SpeechSynthesizer. A plain class (no Nest) so the CLI can use it too. It is the
 * only place that spawns espeak-ng: no shell, argv only, text on stdin, killed on abort/timeout.
 */
export class EspeakSynthesizer implements SpeechSynthesizer {
  readonly name = 'espeak-ng';
  private readonly binary: string;
  private readonly defaultVoice: string;
  private readonly defaultRate: number;
  private readonly limits: SpeechLimits;
  private readonly timeoutMs: number;

  constructor(opts: EspeakOptions = {}) {
    this.binary = opts.binary ?? 'espeak-ng';
    this.defaultVoice = opts.defaultVoice ?? 'en-us';
    this.defaultRate = opts.defaultRate ?? 165;
    this.limits = opts.limits ?? DEFAULT_SPEECH_LIMITS;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
  }

  /** Validates without speaking (the API checks at submission, the job speaks later). */
  validate(req: SpeechRequest): string {
    return validateSpeechInput(req, this.limits);
  }

  async synthesize(req: SpeechRequest, outPath: string, signal?: AbortSignal): Promise<SpeechResult> {
    const clean = this.validate(req);
    if (signal?.aborted) throw new GatewayError('CANCELLED', 'the operation was cancelled');
    const started = Date.now();
    const args = espeakArgs(req.voice ?? this.defaultVoice, req.rate ?? this.defaultRate, outPath);
    try {
      await this.run(args, clean, signal);
      // A WAV header alone (44 bytes) means nothing was spoken (e.g. only punctuation).
      if (fs.statSync(outPath).size <= 44) throw new GatewayError('AUDIO_EMPTY', 'speech synthesis produced no audio');
    } catch (err) {
      fs.rmSync(outPath, { force: true });
      throw err;
    }
    return { outPath, ms: Date.now() - started };
  }

  private run(args: string[], text: string, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.binary, args, { stdio: ['pipe', 'ignore', 'pipe'] });
      let stderr = '';
      let why: GatewayError | undefined;
      const kill = (err: GatewayError) => {
        why ??= err;
        child.kill('SIGKILL');
      };
      const onAbort = () => kill(new GatewayError('CANCELLED', 'the operation was cancelled'));
      signal?.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => kill(new GatewayError('INTERNAL', `espeak-ng timed out after ${this.timeoutMs} ms`)), this.timeoutMs);
      child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-2000)));
      child.stdin.on('error', () => undefined); // EPIPE if it dies early; the exit code explains
      child.stdin.end(text, 'utf8');
      const done = (err?: GatewayError) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve();
      };
      child.once('error', (e) => done(new GatewayError('INTERNAL', `cannot start ${this.binary}: ${e.message}`)));
      child.once('close', (code) => {
        if (why) return done(why);
        if (code === 0) return done();
        const msg = stderr.trim().split('\n').pop() ?? '';
        // espeak-ng's only common user error is an unknown voice.
        const code400 = /voice/i.test(msg);
        done(new GatewayError(code400 ? 'VALIDATION_FAILED' : 'INTERNAL', `espeak-ng failed (code ${code}): ${msg}`.trim()));
      });
    });
  }
}

/** The configured espeak-ng (ESPEAK_PATH, TTS_MAX_CHARS, TTS_DEFAULT_VOICE); defaults when the config has no speech block. */
export function speechFromConfig(config: { speech?: { espeakPath: string; maxChars: number; defaultVoice: string } }): EspeakSynthesizer {
  const s = config.speech;
  return new EspeakSynthesizer(
    s ? { binary: s.espeakPath, defaultVoice: s.defaultVoice, limits: { ...DEFAULT_SPEECH_LIMITS, maxChars: s.maxChars } } : {},
  );
}
