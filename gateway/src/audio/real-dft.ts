import { MixedRadixFft } from './mixed-radix-fft';

/**
 * Exact magnitude spectrum of a real frame of even length n (n = 800 for Wav2Lip) in float64.
 *
 * Zero-padding to a power of two would sample the spectrum at other frequencies and change the
 * mel, so the 800-point DFT is computed exactly: one complex 400-point FFT (400 = 4·4·5·5,
 * MixedRadixFft) of z[m] = x[2m] + i·x[2m+1], then the standard split into the spectra of the
 * even and odd samples and one twiddle per bin. Round-off is ~1e-15 relative.
 * All tables and scratch buffers are allocated once per instance; `magnitude` allocates nothing.
 */
export class RealDft {
  readonly bins: number;
  private readonly half: number;
  private readonly fft: MixedRadixFft;
  /** e^{−2πik/n} for k = 0..n/2, interleaved re/im */
  private readonly twiddle: Float64Array;
  private readonly z: Float64Array;

  constructor(readonly n: number) {
    if (!Number.isInteger(n) || n < 2 || n % 2 !== 0) throw new TypeError(`RealDft needs an even size >= 2, got ${n}`);
    const half = n / 2;
    this.half = half;
    this.bins = half + 1;
    this.fft = new MixedRadixFft(half);
    this.twiddle = new Float64Array(2 * (half + 1));
    for (let k = 0; k <= half; k++) {
      const a = (2 * Math.PI * k) / n;
      this.twiddle[2 * k] = Math.cos(a);
      this.twiddle[2 * k + 1] = -Math.sin(a);
    }
    this.z = new Float64Array(2 * half);
  }

  /** Writes |X[k]| for k = 0..n/2 of the real frame `x` (length n) into `out` (length n/2+1). */
  magnitude(x: Float64Array, out: Float64Array): void {
    // a real frame read as n/2 complex pairs is exactly the interleaved layout of z
    this.fft.transform(x, this.z);
    this.split(out);
  }

  /** magnitude() of the frame y[begin + j]·w[j], j < n, without copying it out first. */
  magnitudeWindowed(y: Float64Array, begin: number, w: Float64Array, out: Float64Array): void {
    this.fft.transformWindowed(y, begin, w, this.z);
    this.split(out);
  }

  /** The spectra of the even and odd samples → |X[k]| of the real frame, from z = FFT(x[2m] + i·x[2m+1]). */
  private split(out: Float64Array): void {
    const z = this.z;
    const half = this.half;
    const tw = this.twiddle;
    for (let k = 0; k <= half; k++) {
      const k1 = k === half ? 0 : k;
      const k2 = k === 0 ? 0 : half - k;
      const ar = z[2 * k1];
      const ai = z[2 * k1 + 1];
      const br = z[2 * k2];
      const bi = -z[2 * k2 + 1]; // conj(Z[half−k])
      // even-sample spectrum E = (Z[k] + conj Z[half−k]) / 2, odd-sample spectrum O = (Z[k] − conj Z[half−k]) / 2i
      const er = 0.5 * (ar + br);
      const ei = 0.5 * (ai + bi);
      const or = 0.5 * (ai - bi);
      const oi = -0.5 * (ar - br);
      const wr = tw[2 * k];
      const wi = tw[2 * k + 1];
      const re = er + wr * or - wi * oi;
      const im = ei + wr * oi + wi * or;
      out[k] = Math.sqrt(re * re + im * im);
    }
  }
}
