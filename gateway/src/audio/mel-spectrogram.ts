import {
  FMAX,
  FMIN,
  HOP,
  MAX_ABS_VALUE,
  MIN_LEVEL_DB,
  N_BINS,
  N_FFT,
  N_MELS,
  PREEMPHASIS,
  REF_LEVEL_DB,
  SAMPLE_RATE,
  WIN,
} from './audio.constants';
import { melFilterbank, SparseFilterbank } from './mel-filterbank';
import { RealDft } from './real-dft';

/**
 * Wav2Lip's `audio.melspectrogram` (librosa 0.7.0 behaviour, wav2lip.md §3) on 16 kHz mono PCM.
 * Float64 inside (pre-emphasis, framing, DFT, mel sums), float32 out; matches the reference within
 * ~1e-5 (librosa's complex64/float32 storage rounds a little earlier than we do).
 */
export interface MelSpectrogram {
  /** [N_MELS, frames] row-major: data[band * frames + t] */
  data: Float32Array;
  frames: number;
}

/** `_amp_to_db`'s floor, computed the way Wav2Lip does: exp(min_level_db/20 · ln 10) */
const MIN_LEVEL = Math.exp((MIN_LEVEL_DB / 20) * Math.log(10));

interface MelPlan {
  window: Float64Array;
  bank: SparseFilterbank;
  dft: RealDft;
  frame: Float64Array;
  mag: Float64Array;
  /** MEL_BLOCK columns of 80 bands, frame-major, before they are transposed into the output */
  block: Float32Array;
}

const MEL_BLOCK = 64;

let sharedPlan: MelPlan | undefined;

/** Tables and scratch buffers are built once per process (melSpectrogram is synchronous, so sharing is safe). */
function plan(): MelPlan {
  if (!sharedPlan) {
    const window = new Float64Array(WIN);
    // scipy get_window('hann', 800, fftbins=True): the periodic Hann window
    for (let n = 0; n < WIN; n++) window[n] = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / WIN);
    sharedPlan = {
      window,
      bank: melFilterbank({ sampleRate: SAMPLE_RATE, nFft: N_FFT, nMels: N_MELS, fmin: FMIN, fmax: FMAX }),
      dft: new RealDft(N_FFT),
      frame: new Float64Array(N_FFT),
      mag: new Float64Array(N_BINS),
      block: new Float32Array(MEL_BLOCK * N_MELS),
    };
  }
  return sharedPlan;
}

/** Number of mel frames librosa's centred STFT yields: 1 + ⌊samples / hop⌋. */
export function melFrameCount(samples: number): number {
  return 1 + Math.floor(samples / HOP);
}

/** lfilter([1, −0.97], [1], x): y[0] = x[0], y[n] = x[n] − 0.97·x[n−1], in float64. */
export function preEmphasis(pcm: Float32Array): Float64Array {
  const y = new Float64Array(pcm.length);
  if (pcm.length) y[0] = pcm[0];
  for (let i = 1; i < pcm.length; i++) y[i] = pcm[i] - PREEMPHASIS * pcm[i - 1];
  return y;
}

/**
 * Index into a signal of length n after numpy.pad(mode='reflect') by any width: the mirror (edge
 * sample not repeated) applied as often as needed, i.e. a periodic extension with period 2(n−1).
 * numpy repeats the only sample of a length-1 signal.
 */
export function reflectIndex(i: number, n: number): number {
  if (i >= 0 && i < n) return i;
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let m = i % period;
  if (m < 0) m += period;
  return m >= n ? period - m : m;
}

/** Normalised mel spectrogram [80, T] float32 of 16 kHz mono PCM (T = 1 + ⌊len/200⌋). */
export function melSpectrogram(pcm: Float32Array): MelSpectrogram {
  const { window, bank, dft, frame, mag, block } = plan();
  const y = preEmphasis(pcm);
  const n = y.length;
  const frames = melFrameCount(n);
  const data = new Float32Array(N_MELS * frames);
  const pad = N_FFT / 2;
  for (let t = 0; t < frames; t++) {
    const begin = t * HOP - pad;
    if (begin >= 0 && begin + N_FFT <= n) {
      dft.magnitudeWindowed(y, begin, window, mag); // interior frame: read in place, no copy
    } else {
      if (n === 0)
        frame.fill(0); // empty input: treated as silence
      else for (let j = 0; j < N_FFT; j++) frame[j] = y[reflectIndex(begin + j, n)] * window[j];
      dft.magnitude(frame, mag);
    }
    const slot = t % MEL_BLOCK;
    writeMelColumn(bank, mag, block, slot * N_MELS);
    if (slot === MEL_BLOCK - 1 || t === frames - 1) flushBlock(block, data, t - slot, slot + 1, frames);
  }
  return { data, frames };
}

/** mel → dB (minus ref level) → symmetric normalisation, for one STFT column, into block[at … at+80). */
function writeMelColumn(bank: SparseFilterbank, mag: Float64Array, block: Float32Array, at: number): void {
  const { start, offset, weights } = bank;
  for (let b = 0; b < N_MELS; b++) {
    let acc = 0;
    const k0 = start[b] - offset[b];
    for (let w = offset[b]; w < offset[b + 1]; w++) acc += weights[w] * mag[k0 + w];
    const db = 20 * Math.log10(acc > MIN_LEVEL ? acc : MIN_LEVEL) - REF_LEVEL_DB;
    const v = 2 * MAX_ABS_VALUE * ((db - MIN_LEVEL_DB) / -MIN_LEVEL_DB) - MAX_ABS_VALUE;
    block[at + b] = v > MAX_ABS_VALUE ? MAX_ABS_VALUE : v < -MAX_ABS_VALUE ? -MAX_ABS_VALUE : v;
  }
}

/** Columns are made one frame at a time but stored band-major: transposing blocks keeps the writes contiguous. */
function flushBlock(block: Float32Array, out: Float32Array, t0: number, count: number, frames: number): void {
  for (let b = 0; b < N_MELS; b++) {
    const row = b * frames + t0;
    for (let i = 0; i < count; i++) out[row + i] = block[i * N_MELS + b];
  }
}
