import { throwIfAborted } from '../common/errors';
import { SAMPLE_RATE } from './audio.constants';

/**
 * In-process resampling to the model's 16 kHz for the plain WAVs read without ffmpeg (plain-wav.ts),
 * such as espeak-ng's 22.05 kHz speech: a linear-phase windowed-sinc (Kaiser) polyphase filter, as
 * good as the mel front end can tell (it reads 55–7600 Hz on a -100 dB floor):
 *  - the band edges of ffmpeg's soxr there: flat (ripple < 0.0001 dB) to 0.91 of the 8 kHz Nyquist
 *    frequency, all of it at 8 kHz and above (what would fold back into the band) down by STOPBAND_DB;
 *  - no delay: output sample j sits at input time j·in/out, like ffmpeg's aresample;
 *  - length round(n·out/in), what ffmpeg (soxr) gives for the same input.
 * The work grows with the input rate (218 taps at 22.05 kHz: ~6 ms of one core per second of audio,
 * done in slices that yield to the event loop), so it is kept to espeak-ng's rate and to inputs of
 * at most MAX_RESAMPLED_SECONDS; ffmpeg (soxr, precision 28, in its own process) stays the path for
 * everything else, and a test compares the two.
 */
export const RESAMPLED_RATES = [22_050] as const;
export const MAX_RESAMPLED_SECONDS = 120;
/** output samples computed between two yields to the event loop (~6 ms at 22.05 kHz) */
const SLICE = 16_000;
const PASSBAND_HZ = 0.91 * (SAMPLE_RATE / 2);
const STOPBAND_HZ = SAMPLE_RATE / 2;
export const STOPBAND_DB = 110;

interface Kernel {
  /** output samples per `down` input samples, and the input step */
  up: number;
  down: number;
  /** taps per phase */
  taps: number;
  /** first input index of phase p's window, relative to floor(j·down/up) */
  first: number;
  /** `up` phases × `taps` coefficients */
  table: Float32Array;
}

const kernels = new Map<number, Kernel>();

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind (power series; converges fast for β ≤ 20). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 64; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

function kernelFor(rate: number): Kernel {
  const cached = kernels.get(rate);
  if (cached) return cached;
  const g = gcd(rate, SAMPLE_RATE);
  const up = SAMPLE_RATE / g;
  const down = rate / g;
  // Kaiser design (Oppenheim & Schafer): β and length from the attenuation and the transition width
  const beta = 0.1102 * (STOPBAND_DB - 8.7);
  const transition = (2 * Math.PI * (STOPBAND_HZ - PASSBAND_HZ)) / rate; // rad/sample at the input rate
  const half = Math.ceil((STOPBAND_DB - 8) / (2.285 * transition) / 2); // taps on each side
  const taps = 2 * half;
  const cutoff = (PASSBAND_HZ + STOPBAND_HZ) / 2 / rate; // cycles per input sample
  const table = new Float32Array(up * taps);
  const i0beta = besselI0(beta);
  // phase p: outputs whose input time t = j·down/up has fractional part p/up
  for (let p = 0; p < up; p++) {
    const f = p / up;
    let sum = 0;
    for (let i = 0; i < taps; i++) {
      const tau = f - (i - half + 1); // t − k for k = floor(t) − half + 1 + i
      const x = tau / half;
      const w = Math.abs(x) >= 1 ? 0 : besselI0(beta * Math.sqrt(1 - x * x)) / i0beta;
      const s = tau === 0 ? 1 : Math.sin(2 * Math.PI * cutoff * tau) / (2 * Math.PI * cutoff * tau);
      const h = 2 * cutoff * s * w;
      table[p * taps + i] = h;
      sum += h;
    }
    // unity gain at DC for every phase (no ripple from the truncated sum)
    for (let i = 0; i < taps; i++) table[p * taps + i] /= sum;
  }
  const kernel = { up, down, taps, first: -half + 1, table };
  kernels.set(rate, kernel);
  return kernel;
}

/** Output samples for `n` input samples at `rate`: round(n·16000/rate), as ffmpeg gives. */
export function resampledLength(n: number, rate: number): number {
  return Math.floor((2 * n * SAMPLE_RATE + rate) / (2 * rate));
}

/**
 * `x` (mono, at `rate`: one of RESAMPLED_RATES, or 16 kHz: returned as is) at 16 kHz. Yields to the
 * event loop every SLICE output samples, so a long input never stalls the server's other requests.
 */
export async function resampleTo16k(x: Float32Array, rate: number, signal?: AbortSignal): Promise<Float32Array> {
  if (rate === SAMPLE_RATE) return x;
  if (!(RESAMPLED_RATES as readonly number[]).includes(rate)) throw new RangeError(`no in-process resampler for ${rate} Hz`);
  const kernel = kernelFor(rate);
  const out = new Float32Array(resampledLength(x.length, rate));
  for (let from = 0; from < out.length; from += SLICE) {
    if (from > 0) await new Promise((resolve) => setImmediate(resolve));
    throwIfAborted(signal);
    filterInto(x, kernel, out, from, Math.min(out.length, from + SLICE));
  }
  return out;
}

function filterInto(x: Float32Array, { up, down, taps, first, table }: Kernel, out: Float32Array, from: number, to: number): void {
  const n = x.length;
  for (let j = from; j < to; j++) {
    const pos = j * down; // input time × up
    const base = Math.floor(pos / up) + first;
    const row = (pos % up) * taps;
    let acc = 0;
    if (base >= 0 && base + taps <= n) {
      for (let i = 0; i < taps; i++) acc += x[base + i] * table[row + i];
    } else {
      for (let i = 0; i < taps; i++) {
        const k = base + i;
        if (k >= 0 && k < n) acc += x[k] * table[row + i];
      }
    }
    out[j] = acc;
  }
}
