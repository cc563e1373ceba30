import { promises as fs } from 'fs';
import { GatewayError, throwIfAborted } from '../common/errors';
import { assertProbedFormat, requirePinnedFormat } from '../media/demuxer-allowlist';
import { FfmpegRunner } from '../media/ffmpeg-runner';
import { sniffFile } from '../media/sniff-file';
import { buildDecodeArgs, buildProbeArgs, checkProbe, parseProbe, AudioProbe } from './audio-args';
import { DEFAULT_MAX_AUDIO_SECONDS, SAMPLE_RATE } from './audio.constants';
import { melSpectrogram, MelSpectrogram } from './mel-spectrogram';
import { PcmCollector } from './pcm-collector';
import { plainWavSeconds, probePlainWav, readPlainWav } from './plain-wav';

export interface AudioLimits {
  maxAudioSeconds: number;
}

export interface DecodedAudio {
  /** 16 kHz mono float32 */
  pcm: Float32Array;
  probe: AudioProbe;
  durationSec: number;
}

const PROBE_TIMEOUT_MS = 30_000;
// decoding 10 minutes of audio takes seconds; a stalled ffmpeg must not hold a job slot
const DECODE_TIMEOUT_MS = 3 * 60_000;

/**
 * Audio input → 16 kHz mono float32 PCM → Wav2Lip mel. Every ffmpeg/ffprobe call goes through the
 * FfmpegRunner; bad input is refused early with a stable GatewayError code.
 */
export class AudioService {
  private readonly limits: AudioLimits;

  constructor(
    private readonly runner: FfmpegRunner,
    limits: Partial<AudioLimits> = {},
  ) {
    this.limits = { maxAudioSeconds: limits.maxAudioSeconds ?? DEFAULT_MAX_AUDIO_SECONDS };
  }

  /** ffprobe the file and apply the early refusals (missing, empty, no audio, too long, undecodable). */
  async probe(file: string, opts: { signal?: AbortSignal } = {}): Promise<AudioProbe> {
    const name = ROLE;
    await checkFile(file, name);
    // the content decides the demuxer (never ffmpeg's own probing, which follows playlists)
    const { found } = await sniffFile(file);
    if (found?.kind === 'image') throw new GatewayError('UNSUPPORTED_MEDIA', `${name} is an image, not audio`);
    const pinned = requirePinnedFormat(found, name);
    if (pinned.format === 'wav') {
      // plain mono 16-bit PCM at 16 kHz (or a rate resampled in-process) needs no ffprobe (plain-wav.ts); the same limits apply
      const plain = await probePlainWav(file);
      if (plain) {
        const probe: AudioProbe = {
          durationSec: plainWavSeconds(plain.wav, plain.samples),
          formatName: 'wav',
          codec: 'pcm_s16le',
          sampleRate: plain.wav.sampleRate,
          channels: 1,
          audioIndex: 0,
          pinned,
          plainWav: plain.wav,
        };
        checkProbe(probe, this.limits.maxAudioSeconds, name);
        return probe;
      }
    }
    let stdout: Buffer;
    try {
      ({ stdout } = await this.runner.probe(buildProbeArgs(file, pinned), {
        signal: opts.signal,
        timeoutMs: PROBE_TIMEOUT_MS,
        maxStdoutBytes: 1 << 20,
      }));
    } catch (err) {
      throw asUndecodable(err, name);
    }
    const probe = { ...parseProbe(stdout.toString('utf8'), name), pinned };
    assertProbedFormat(pinned, probe.formatName, name);
    checkProbe(probe, this.limits.maxAudioSeconds, name);
    return probe;
  }

  /** Decodes to 16 kHz mono float32 by piping through ffmpeg (no temp files). */
  async decode(file: string, opts: { signal?: AbortSignal } = {}): Promise<Float32Array> {
    return (await this.load(file, opts)).pcm;
  }

  /**
   * probe + decode, with the post-decode checks (nothing decoded, longer than the limit). `probe`:
   * this file's probe from earlier (the job's submission), so it is not probed twice.
   */
  async load(file: string, opts: { signal?: AbortSignal; probe?: AudioProbe } = {}): Promise<DecodedAudio> {
    const name = ROLE;
    const probe = opts.probe ?? (await this.probe(file, opts));
    throwIfAborted(opts.signal);
    const max = this.limits.maxAudioSeconds;
    // one second of slack past the limit: enough to tell "too long" from "exactly the limit"
    const samples = probe.plainWav
      ? await readPlainWav(file, probe.plainWav, (max + 1) * SAMPLE_RATE, opts.signal)
      : await this.decodeWithFfmpeg(file, probe, opts.signal);
    if (samples.length === 0) throw new GatewayError('AUDIO_EMPTY', `${name} contains no audio samples`);
    const durationSec = samples.length / SAMPLE_RATE;
    if (durationSec > max) {
      throw new GatewayError('AUDIO_TOO_LONG', `${name} is longer than the limit of ${max} s`, { maxAudioSeconds: max });
    }
    return { pcm: samples, probe, durationSec };
  }

  private async decodeWithFfmpeg(file: string, probe: AudioProbe, signal?: AbortSignal): Promise<Float32Array> {
    const max = this.limits.maxAudioSeconds;
    const expected = Math.min(probe.durationSec ?? 10, max + 1) * SAMPLE_RATE + SAMPLE_RATE;
    const pcm = new PcmCollector(expected);
    const args = buildDecodeArgs(file, {
      maxSeconds: max + 1,
      channels: probe.channels,
      audioIndex: probe.audioIndex,
      pinned: probe.pinned,
    });
    try {
      await this.runner.stream(args, (chunk) => pcm.push(chunk), { signal, timeoutMs: DECODE_TIMEOUT_MS });
    } catch (err) {
      throw asUndecodable(err, ROLE);
    }
    return pcm.result();
  }

  /** decode + melSpectrogram. */
  async loadMel(file: string, opts: { signal?: AbortSignal } = {}): Promise<DecodedAudio & { mel: MelSpectrogram }> {
    const decoded = await this.load(file, opts);
    throwIfAborted(opts.signal);
    return { ...decoded, mel: melSpectrogram(decoded.pcm) };
  }
}

/** Messages name the input by its role, never by its path on the server (issue 10, item 8). */
const ROLE = 'the audio file';

async function checkFile(file: string, name: string): Promise<void> {
  let stat;
  try {
    stat = await fs.stat(file);
  } catch {
    throw new GatewayError('VALIDATION_FAILED', `${name} does not exist or cannot be read`, { path: file });
  }
  if (!stat.isFile()) throw new GatewayError('VALIDATION_FAILED', `${name} is not a regular file`, { path: file });
  if (stat.size === 0) throw new GatewayError('AUDIO_EMPTY', `${name} is empty (0 bytes)`);
}

/** ffmpeg/ffprobe failures on an input mean the input cannot be decoded; stderr stays in details (logs only). */
function asUndecodable(err: unknown, name: string): unknown {
  // only a tool that ran and exited non-zero says something about the input; a missing binary or a
  // timeout stays FFMPEG_FAILED
  const stderr = err instanceof GatewayError && err.code === 'FFMPEG_FAILED' ? err.details?.stderr : undefined;
  if (typeof stderr === 'string') {
    return new GatewayError('AUDIO_UNDECODABLE', `${name} cannot be decoded`, { stderr }, { cause: err });
  }
  return err;
}
