import { GatewayError } from '../common/errors';
import { SAMPLE_RATE } from './audio.constants';
import { PinnedFormat, pinnedInputArgs, pinnedProbeInput } from '../media/demuxer-allowlist';
import type { PlainWav } from './plain-wav';

/**
 * Pure ffprobe/ffmpeg argument builders and probe interpretation for the audio front end. The
 * runner call lives in AudioService; everything here is tested without processes.
 */

/** What the gateway needs to know about an input before decoding it. */
export interface AudioProbe {
  /** seconds, from the audio stream or the container; null when neither says */
  durationSec: number | null;
  formatName: string;
  codec: string;
  sampleRate: number | null;
  channels: number | null;
  /** index of the chosen stream among the file's audio streams (for -map 0:a:N) */
  audioIndex: number;
  /** the demuxer every later reader of this file must use (media/demuxer-allowlist.ts) */
  pinned: PinnedFormat;
  /** set for a plain 16 kHz mono s16le WAV: read in-process, without ffprobe/ffmpeg (plain-wav.ts) */
  plainWav?: PlainWav;
}

/** ffprobe with the demuxer pinned to the sniffed format (never ffmpeg's own content probing). */
export function buildProbeArgs(file: string, pinned: PinnedFormat): string[] {
  return ['-v', 'error', '-print_format', 'json', '-show_streams', '-show_format', ...pinnedProbeInput(pinned, file)];
}

/**
 * Channel mix to mono as librosa does it (the mean of the channels). ffmpeg's own `-ac 1` uses
 * other gains (1/√2 per side for stereo), hence an explicit `pan`.
 */
export function monoMixFilter(channels: number | null): string | null {
  if (!channels || channels <= 1 || channels > 64) return null;
  const gain = 1 / channels;
  const terms = Array.from({ length: channels }, (_, c) => `${gain}*c${c}`).join('+');
  // float first: pan on s16 input would round the mix to 16 bits
  return `aformat=sample_fmts=flt,pan=mono|c0=${terms}`;
}

export interface DecodeArgsOptions {
  /** stop after this many seconds of output (bounds memory; the caller refuses anything longer) */
  maxSeconds: number;
  channels: number | null;
  audioIndex?: number;
  pinned: PinnedFormat;
}

/**
 * ffmpeg → 16 kHz mono float32 little-endian on stdout. Resampling uses soxr (the original used
 * resampy kaiser_best; soxr at 28-bit precision is the closest high-quality resampler ffmpeg has).
 * 16 kHz input passes the resampler untouched and s16 becomes exactly x/32768.
 */
export function buildDecodeArgs(file: string, opts: DecodeArgsOptions): string[] {
  const filters = [monoMixFilter(opts.channels), `aresample=${SAMPLE_RATE}:resampler=soxr:precision=28`].filter(Boolean);
  return [
    '-nostdin',
    '-hide_banner',
    '-loglevel',
    'error',
    ...pinnedInputArgs(opts.pinned, file),
    '-map',
    `0:a:${opts.audioIndex ?? 0}`,
    '-vn',
    '-sn',
    '-dn',
    '-af',
    filters.join(','),
    '-ac',
    '1',
    '-ar',
    String(SAMPLE_RATE),
    '-t',
    String(opts.maxSeconds),
    '-f',
    'f32le',
    'pipe:1',
  ];
}

interface RawStream {
  codec_type?: string;
  codec_name?: string;
  sample_rate?: string;
  channels?: number;
  duration?: string;
}

interface RawProbe {
  streams?: RawStream[];
  format?: { format_name?: string; duration?: string };
}

function positiveNumber(v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : null;
}

/** Reads ffprobe's JSON; refuses (NO_AUDIO_STREAM) a file without audio. */
export function parseProbe(json: string, displayName: string): Omit<AudioProbe, 'pinned'> {
  let raw: RawProbe;
  try {
    raw = JSON.parse(json) as RawProbe;
  } catch {
    throw new GatewayError('AUDIO_UNDECODABLE', `${displayName}: ffprobe returned unreadable output`);
  }
  // ffmpeg reads any *.txt as ANSI art (the `tty` demuxer): that is text, not media
  if (raw.format?.format_name === 'tty') throw new GatewayError('AUDIO_UNDECODABLE', `${displayName} is a text file, not audio`);
  const audio = (raw.streams ?? []).filter((s) => s.codec_type === 'audio');
  if (!audio.length) throw new GatewayError('NO_AUDIO_STREAM', `${displayName} has no audio stream`);
  const s = audio[0];
  const durationSec = positiveNumber(s.duration) ?? positiveNumber(raw.format?.duration);
  return {
    durationSec,
    formatName: raw.format?.format_name ?? 'unknown',
    codec: s.codec_name ?? 'unknown',
    sampleRate: positiveNumber(s.sample_rate),
    channels: typeof s.channels === 'number' && s.channels > 0 ? s.channels : null,
    audioIndex: 0,
  };
}

/** Early refusals from the probe alone: zero length (AUDIO_EMPTY) or longer than allowed (AUDIO_TOO_LONG). */
export function checkProbe(probe: Omit<AudioProbe, 'pinned'>, maxAudioSeconds: number, displayName: string): void {
  if (probe.durationSec === 0) throw new GatewayError('AUDIO_EMPTY', `${displayName} contains no audio`);
  if (probe.durationSec !== null && probe.durationSec > maxAudioSeconds) {
    throw new GatewayError(
      'AUDIO_TOO_LONG',
      `${displayName} is ${probe.durationSec.toFixed(1)} s long; the limit is ${maxAudioSeconds} s`,
      { durationSec: probe.durationSec, maxAudioSeconds },
    );
  }
}
