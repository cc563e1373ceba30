/**
 * The Slaney-style mel filterbank of librosa 0.7.0 `filters.mel(sr, n_fft, n_mels, fmin, fmax)`
 * with its defaults (htk=False, norm=1 i.e. area normalisation, dtype float32), kept as sparse
 * band ranges because each triangle touches only a few FFT bins.
 */
const F_SP = 200 / 3; // Hz per mel on the linear part
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP; // 15
const LOG_STEP = Math.log(6.4) / 27;

/** Slaney mel scale: linear below 1 kHz, logarithmic above. */
export function hzToMel(hz: number): number {
  return hz >= MIN_LOG_HZ ? MIN_LOG_MEL + Math.log(hz / MIN_LOG_HZ) / LOG_STEP : hz / F_SP;
}

export function melToHz(mel: number): number {
  return mel >= MIN_LOG_MEL ? MIN_LOG_HZ * Math.exp(LOG_STEP * (mel - MIN_LOG_MEL)) : F_SP * mel;
}

export interface MelFilterbankSpec {
  sampleRate: number;
  nFft: number;
  nMels: number;
  fmin: number;
  fmax: number;
}

/** Band b has weights `weights[offset[b] .. offset[b+1])` for FFT bins `start[b] ..`. */
export interface SparseFilterbank {
  nMels: number;
  nBins: number;
  start: Int32Array;
  offset: Int32Array;
  weights: Float64Array;
  /** the band edge frequencies (n_mels + 2 points, Hz) */
  edgesHz: Float64Array;
}

/** Dense [nMels, nBins] float32 weights exactly as librosa 0.7.0 builds them. */
export function melFilterbankDense(spec: MelFilterbankSpec): Float32Array {
  const { sampleRate, nFft, nMels } = spec;
  const nBins = Math.floor(nFft / 2) + 1;
  const edges = melEdgesHz(spec);
  const out = new Float32Array(nMels * nBins);
  for (let b = 0; b < nMels; b++) {
    const lo = edges[b];
    const mid = edges[b + 1];
    const hi = edges[b + 2];
    const enorm = 2 / (hi - lo);
    for (let k = 0; k < nBins; k++) {
      // fftfreqs = linspace(0, sr/2, nBins)
      const f = (k * (sampleRate / 2)) / (nBins - 1);
      const lower = (f - lo) / (mid - lo);
      const upper = (hi - f) / (hi - mid);
      // librosa stores the triangle in float32 first, then scales it in place (float64 product, float32 store)
      const w = Math.fround(Math.max(0, Math.min(lower, upper)));
      out[b * nBins + k] = w * enorm;
    }
  }
  return out;
}

/** Mel band edges: n_mels+2 points evenly spaced on the Slaney mel scale between fmin and fmax. */
export function melEdgesHz(spec: MelFilterbankSpec): Float64Array {
  const { nMels, fmin, fmax } = spec;
  const lo = hzToMel(fmin);
  const hi = hzToMel(fmax);
  const n = nMels + 2;
  const edges = new Float64Array(n);
  // numpy.linspace: start + i*step, with the last point set to stop exactly
  const step = (hi - lo) / (n - 1);
  for (let i = 0; i < n; i++) edges[i] = melToHz(i === n - 1 ? hi : i * step + lo);
  return edges;
}

/** Sparse form of `melFilterbankDense` (same float32-rounded values, held as float64). */
export function melFilterbank(spec: MelFilterbankSpec): SparseFilterbank {
  const dense = melFilterbankDense(spec);
  const nBins = Math.floor(spec.nFft / 2) + 1;
  const start = new Int32Array(spec.nMels);
  const offset = new Int32Array(spec.nMels + 1);
  const values: number[] = [];
  for (let b = 0; b < spec.nMels; b++) {
    let first = -1;
    let last = -1;
    for (let k = 0; k < nBins; k++) {
      if (dense[b * nBins + k] !== 0) {
        if (first < 0) first = k;
        last = k;
      }
    }
    start[b] = Math.max(first, 0);
    offset[b] = values.length;
    for (let k = first; first >= 0 && k <= last; k++) values.push(dense[b * nBins + k]);
  }
  offset[spec.nMels] = values.length;
  return { nMels: spec.nMels, nBins, start, offset, weights: Float64Array.from(values), edgesHz: melEdgesHz(spec) };
}
