import { promises as fs } from 'fs';
import { SAMPLE_RATE } from './audio.constants';
import { MAX_RESAMPLED_SECONDS, RESAMPLED_RATES, resampledLength, resampleTo16k } from './resample';

/**
 * The one input the gateway reads without ffmpeg: a plain RIFF WAV of 16-bit PCM, mono, at 16 kHz
 * (exactly the model's sample format: Wav2Lip's own input; what most speech tools write) or at
 * espeak-ng's 22.05 kHz (the text jobs' speech; RESAMPLED_RATES, up to MAX_RESAMPLED_SECONDS).
 * At 16 kHz ffmpeg would pass it through the resampler untouched and turn each sample x into
 * x/32768, so reading it here gives the same floats, bit for bit; at the other rates resample.ts
 * does what ffmpeg's resampler would (the mel differs by < 0.03 in its top band, < 0.001 below).
 * Either way no process is started (ffprobe and ffmpeg: ~100 ms each, before a streamed job's first
 * frame can be drawn). Anything else (another rate, stereo, 24-bit, float, WAVE_FORMAT_EXTENSIBLE,
 * RF64, odd-sized chunks before the data, a fmt chunk after it) returns null and goes through
 * ffprobe/ffmpeg as before.
 */
export interface PlainWav {
  /** the file's sample rate: SAMPLE_RATE or one of RESAMPLED_RATES */
  sampleRate: number;
  /** byte offset of the first sample */
  dataOffset: number;
  /** bytes of samples the data chunk declares; null = up to the end of the file (a streamed WAV's 0 or 0xFFFFFFFF) */
  dataBytes: number | null;
}

/** Bytes read to find the chunks before the samples (a LIST or bext chunk can be long; beyond this, ffmpeg decides). */
export const PLAIN_WAV_HEAD_BYTES = 64 * 1024;

const PCM = 1;

const RATES: readonly number[] = [SAMPLE_RATE, ...RESAMPLED_RATES];

/** Parses the head of a file; null unless it is a plain mono s16le WAV at a rate read in-process (see above). */
export function parsePlainWav(head: Uint8Array): PlainWav | null {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const tag = (at: number) => String.fromCharCode(...head.subarray(at, at + 4));
  if (head.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') return null;
  let rate = 0;
  for (let at = 12; at + 8 <= head.length;) {
    const id = tag(at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'data') {
      if (!rate) return null;
      return { sampleRate: rate, dataOffset: body, dataBytes: size === 0 || size === 0xffffffff ? null : size };
    }
    // RIFF pads odd chunks to even sizes; readers differ on that, so leave such files to ffmpeg
    if (size % 2) return null;
    if (id === 'fmt ') {
      if (rate || size < 16 || body + 16 > head.length) return null;
      const format = view.getUint16(body, true);
      const channels = view.getUint16(body + 2, true);
      const fileRate = view.getUint32(body + 4, true);
      const byteRate = view.getUint32(body + 8, true);
      const blockAlign = view.getUint16(body + 12, true);
      const bits = view.getUint16(body + 14, true);
      if (format !== PCM || channels !== 1 || !RATES.includes(fileRate) || bits !== 16 || blockAlign !== 2 || byteRate !== 2 * fileRate)
        return null;
      rate = fileRate;
    }
    at = body + size;
  }
  return null; // no data chunk within the head
}

/** Reads a file's head and parses it (null: not a plain WAV, see parsePlainWav); `samples` at the file's own rate. */
export async function probePlainWav(file: string): Promise<{ wav: PlainWav; samples: number } | null> {
  const fh = await fs.open(file, 'r');
  try {
    const head = Buffer.alloc(PLAIN_WAV_HEAD_BYTES);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    const wav = parsePlainWav(head.subarray(0, bytesRead));
    if (!wav) return null;
    const { size } = await fh.stat();
    const samples = Math.floor(availableBytes(wav, size) / 2);
    // a long input at another rate resamples faster in ffmpeg's own process (resample.ts)
    if (wav.sampleRate !== SAMPLE_RATE && samples > MAX_RESAMPLED_SECONDS * wav.sampleRate) return null;
    return { wav, samples };
  } finally {
    await fh.close();
  }
}

function availableBytes(wav: PlainWav, fileSize: number): number {
  const toEnd = Math.max(0, fileSize - wav.dataOffset);
  return wav.dataBytes === null ? toEnd : Math.min(wav.dataBytes, toEnd);
}

/**
 * The samples at 16 kHz as float32 x/32768 (what ffmpeg's s16 → flt conversion gives; resampled
 * in-process from another rate), at most `maxSamples` of them (ffmpeg's `-t`); a trailing odd byte
 * is dropped, as ffmpeg's PCM decoder does.
 */
export async function readPlainWav(file: string, wav: PlainWav, maxSamples: number, signal?: AbortSignal): Promise<Float32Array> {
  const samples = await readSamples(file, wav, Math.ceil((maxSamples * wav.sampleRate) / SAMPLE_RATE));
  if (wav.sampleRate === SAMPLE_RATE) return samples;
  const out = await resampleTo16k(samples, wav.sampleRate, signal);
  return out.length > maxSamples ? out.subarray(0, maxSamples) : out;
}

/** Duration in seconds of `samples` at the WAV's rate, as the 16 kHz samples read from it will give. */
export function plainWavSeconds(wav: PlainWav, samples: number): number {
  return resampledLength(samples, wav.sampleRate) / SAMPLE_RATE;
}

async function readSamples(file: string, wav: PlainWav, maxSamples: number): Promise<Float32Array> {
  const fh = await fs.open(file, 'r');
  try {
    const { size } = await fh.stat();
    const n = Math.min(Math.floor(availableBytes(wav, size) / 2), maxSamples);
    const bytes = Buffer.alloc(n * 2);
    let got = 0;
    while (got < bytes.length) {
      const { bytesRead } = await fh.read(bytes, got, bytes.length - got, wav.dataOffset + got);
      if (bytesRead === 0) break; // the file shrank under us: keep what was read
      got += bytesRead;
    }
    const count = Math.floor(got / 2);
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = bytes.readInt16LE(2 * i) / 32768;
    return out;
  } finally {
    await fh.close();
  }
}
