import { GatewayError } from '../common/errors';

/** A text-to-speech engine that writes a WAV file. espeak-ng today; a neural or cloud voice can implement it later. */
export interface SpeechSynthesizer {
  readonly name: string;
  /** Speaks `req.text` into a WAV at `outPath`. Throws GatewayError (VALIDATION_FAILED, AUDIO_EMPTY, CANCELLED, INTERNAL). */
  synthesize(req: SpeechRequest, outPath: string, signal?: AbortSignal): Promise<SpeechResult>;
  /** Checks text, voice and rate without speaking; returns the text as it will be spoken. */
  validate(req: SpeechRequest): string;
}

export interface SpeechRequest {
  text: string;
  /** engine voice name; validated against SAFE_VOICE */
  voice?: string;
  /** words per minute */
  rate?: number;
}

export interface SpeechResult {
  outPath: string;
  /** wall time of the synthesis in ms */
  ms: number;
}

export interface SpeechLimits {
  maxChars: number;
  minRate: number;
  maxRate: number;
}

export const DEFAULT_SPEECH_LIMITS: SpeechLimits = { maxChars: 2000, minRate: 80, maxRate: 450 };

/** Voice names such as `en`, `en-us`, `en-us+f3`, `gmw/en-GB-x-rp`: letters, digits and - _ / +, nothing a shell or option parser cares about. */
export const SAFE_VOICE = /^[A-Za-z][A-Za-z0-9_/-]{0,39}(\+[A-Za-z0-9_-]{1,20})?$/;

/** Checks text, voice and rate before anything is spawned; returns the trimmed text. */
export function validateSpeechInput({ text, voice, rate }: SpeechRequest, limits: SpeechLimits): string {
  const trimmed = typeof text === 'string' ? text.trim() : '';
  if (!trimmed) throw new GatewayError('VALIDATION_FAILED', 'text must not be empty');
  if (trimmed.length > limits.maxChars) {
    throw new GatewayError('VALIDATION_FAILED', `text is longer than ${limits.maxChars} characters`);
  }
  if (voice !== undefined && !SAFE_VOICE.test(voice)) {
    throw new GatewayError('VALIDATION_FAILED', `voice "${voice.slice(0, 40)}" is not a valid voice name`);
  }
  if (rate !== undefined && (!Number.isInteger(rate) || rate < limits.minRate || rate > limits.maxRate)) {
    throw new GatewayError('VALIDATION_FAILED', `rate must be an integer from ${limits.minRate} to ${limits.maxRate} words per minute`);
  }
  return trimmed;
}
