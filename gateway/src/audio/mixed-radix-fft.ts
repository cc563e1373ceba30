/**
 * In-place-free complex FFT for sizes made of small factors (400 = 4·4·5·5 for Wav2Lip), Stockham
 * auto-sort form (natural order in and out, no bit reversal). Hand-written because fft.js only does
 * powers of two; a Bluestein transform through fft.js (size 1024) was measured 10× slower here.
 * Tables per stage are built once; `transform` allocates nothing.
 */
interface Stage {
  radix: number;
  /** size of the sub-transforms already done before this stage */
  span: number;
  /** twiddles e^{−2πi·r·q/(span·radix)} for q < span, r < radix, interleaved re/im at (q·radix + r) */
  twiddle: Float64Array;
}

const C5_1 = Math.cos((2 * Math.PI) / 5);
const C5_2 = Math.cos((4 * Math.PI) / 5);
const S5_1 = Math.sin((2 * Math.PI) / 5);
const S5_2 = Math.sin((4 * Math.PI) / 5);

/** One forward radix-4 butterfly of twiddled inputs a0..a3, outputs at o, o+h, o+2h, o+3h (re/im interleaved). */
function butterfly4(
  dst: Float64Array,
  o: number,
  h: number,
  a0r: number,
  a0i: number,
  a1r: number,
  a1i: number,
  a2r: number,
  a2i: number,
  a3r: number,
  a3i: number,
): void {
  const s02r = a0r + a2r,
    s02i = a0i + a2i,
    d02r = a0r - a2r,
    d02i = a0i - a2i;
  const s13r = a1r + a3r,
    s13i = a1i + a3i,
    d13r = a1r - a3r,
    d13i = a1i - a3i;
  // forward: X1 = d02 − i·d13, X3 = d02 + i·d13
  dst[o] = s02r + s13r;
  dst[o + 1] = s02i + s13i;
  dst[o + h] = d02r + d13i;
  dst[o + h + 1] = d02i - d13r;
  dst[o + 2 * h] = s02r - s13r;
  dst[o + 2 * h + 1] = s02i - s13i;
  dst[o + 3 * h] = d02r - d13i;
  dst[o + 3 * h + 1] = d02i + d13r;
}

/** Radices for n, preferring 4, then 2, 5, 3, then any remaining prime. */
export function factorize(n: number): number[] {
  const out: number[] = [];
  let rest = n;
  for (const p of [4, 2, 5, 3]) {
    while (rest % p === 0) {
      out.push(p);
      rest /= p;
    }
  }
  for (let p = 7; rest > 1; p += 2) {
    while (rest % p === 0) {
      out.push(p);
      rest /= p;
    }
  }
  return out;
}

export class MixedRadixFft {
  private readonly stages: Stage[] = [];
  private readonly work: Float64Array;
  private readonly tmp: Float64Array;
  private tmpFrame: Float64Array | undefined;

  constructor(readonly n: number) {
    if (!Number.isInteger(n) || n < 1) throw new TypeError(`FFT size must be a positive integer, got ${n}`);
    let span = 1;
    for (const radix of factorize(n)) {
      const twiddle = new Float64Array(2 * span * radix);
      for (let q = 0; q < span; q++) {
        for (let r = 0; r < radix; r++) {
          const a = (-2 * Math.PI * r * q) / (span * radix);
          twiddle[2 * (q * radix + r)] = Math.cos(a);
          twiddle[2 * (q * radix + r) + 1] = Math.sin(a);
        }
      }
      this.stages.push({ radix, span, twiddle });
      span *= radix;
    }
    this.work = new Float64Array(2 * n);
    const maxRadix = Math.max(1, ...this.stages.map((s) => s.radix));
    this.tmp = new Float64Array(4 * maxRadix);
  }

  /** Forward DFT X[k] = Σ x[j]·e^{−2πijk/n} of interleaved re/im `input` into `output` (both 2n long, distinct). */
  transform(input: Float64Array, output: Float64Array): void {
    if (input === output) throw new TypeError('input and output must differ');
    // ping-pong between output and work so that the last stage lands in output
    let src = input;
    let dst = this.stages.length % 2 === 1 ? output : this.work;
    if (this.stages.length === 0) {
      output.set(input.subarray(0, 2 * this.n));
      return;
    }
    for (const stage of this.stages) {
      this.runStage(stage, src, dst);
      src = dst;
      dst = dst === output ? this.work : output;
    }
  }

  /**
   * transform() of the real signal x[j] = y[begin + j]·w[j] (j < 2n) read as n complex pairs, without
   * materialising x: the first radix-4 stage (span 1, unit twiddles) reads y and w directly. Saves a
   * copy of every STFT frame; falls back to the general path when the plan does not start with radix 4.
   */
  transformWindowed(y: Float64Array, begin: number, w: Float64Array, output: Float64Array): void {
    const first = this.stages[0];
    if (!first || first.radix !== 4) {
      const x = this.tmpFrame ?? (this.tmpFrame = new Float64Array(2 * this.n));
      for (let j = 0; j < 2 * this.n; j++) x[j] = y[begin + j] * w[j];
      this.transform(x, output);
      return;
    }
    let dst = this.stages.length % 2 === 1 ? output : this.work;
    const stride = this.n / 4;
    const h = 2; // output spacing of the first stage (2·span)
    for (let g = 0; g < stride; g++) {
      const j = 2 * g;
      const s1 = j + 2 * stride;
      const s2 = j + 4 * stride;
      const s3 = j + 6 * stride;
      const a0r = y[begin + j] * w[j],
        a0i = y[begin + j + 1] * w[j + 1];
      const a1r = y[begin + s1] * w[s1],
        a1i = y[begin + s1 + 1] * w[s1 + 1];
      const a2r = y[begin + s2] * w[s2],
        a2i = y[begin + s2 + 1] * w[s2 + 1];
      const a3r = y[begin + s3] * w[s3],
        a3i = y[begin + s3 + 1] * w[s3 + 1];
      butterfly4(dst, 2 * (g * 4), h, a0r, a0i, a1r, a1i, a2r, a2i, a3r, a3i);
    }
    let src = dst;
    dst = dst === output ? this.work : output;
    for (let i = 1; i < this.stages.length; i++) {
      this.runStage(this.stages[i], src, dst);
      src = dst;
      dst = dst === output ? this.work : output;
    }
  }

  private runStage({ radix, span, twiddle }: Stage, src: Float64Array, dst: Float64Array): void {
    const stride = this.n / radix;
    const groups = stride / span;
    // q outer: the twiddles of one q serve every group; j = g·span + q, out = g·span·radix + q
    for (let q = 0; q < span; q++) {
      const tw = 2 * q * radix;
      if (radix === 4) this.radix4(src, dst, q, groups, stride, span, twiddle, tw);
      else if (radix === 5) this.radix5(src, dst, q, groups, stride, span, twiddle, tw);
      else {
        for (let g = 0; g < groups; g++) {
          this.butterflyGeneric(radix, src, dst, g * span + q, stride, g * span * radix + q, span, twiddle, tw);
        }
      }
    }
  }

  private radix4(
    src: Float64Array,
    dst: Float64Array,
    q: number,
    groups: number,
    stride: number,
    span: number,
    t: Float64Array,
    tw: number,
  ): void {
    const w1r = t[tw + 2],
      w1i = t[tw + 3],
      w2r = t[tw + 4],
      w2i = t[tw + 5],
      w3r = t[tw + 6],
      w3i = t[tw + 7];
    for (let g = 0; g < groups; g++) {
      const j = 2 * (g * span + q);
      const o = 2 * (g * span * 4 + q);
      const s1 = j + 2 * stride;
      const s2 = j + 4 * stride;
      const s3 = j + 6 * stride;
      const a0r = src[j],
        a0i = src[j + 1];
      // q = 0 (all of the first stage) has unit twiddles: skip the multiplications
      const a1r = q === 0 ? src[s1] : src[s1] * w1r - src[s1 + 1] * w1i;
      const a1i = q === 0 ? src[s1 + 1] : src[s1] * w1i + src[s1 + 1] * w1r;
      const a2r = q === 0 ? src[s2] : src[s2] * w2r - src[s2 + 1] * w2i;
      const a2i = q === 0 ? src[s2 + 1] : src[s2] * w2i + src[s2 + 1] * w2r;
      const a3r = q === 0 ? src[s3] : src[s3] * w3r - src[s3 + 1] * w3i;
      const a3i = q === 0 ? src[s3 + 1] : src[s3] * w3i + src[s3 + 1] * w3r;
      butterfly4(dst, o, 2 * span, a0r, a0i, a1r, a1i, a2r, a2i, a3r, a3i);
    }
  }

  private radix5(
    src: Float64Array,
    dst: Float64Array,
    q: number,
    groups: number,
    stride: number,
    span: number,
    t: Float64Array,
    tw: number,
  ): void {
    const w1r = t[tw + 2],
      w1i = t[tw + 3],
      w2r = t[tw + 4],
      w2i = t[tw + 5];
    const w3r = t[tw + 6],
      w3i = t[tw + 7],
      w4r = t[tw + 8],
      w4i = t[tw + 9];
    for (let g = 0; g < groups; g++) {
      const j = 2 * (g * span + q);
      const o = 2 * (g * span * 5 + q);
      const s1 = j + 2 * stride;
      const s2 = j + 4 * stride;
      const s3 = j + 6 * stride;
      const s4 = j + 8 * stride;
      const a0r = src[j],
        a0i = src[j + 1];
      const v1r = src[s1] * w1r - src[s1 + 1] * w1i,
        v1i = src[s1] * w1i + src[s1 + 1] * w1r;
      const v2r = src[s2] * w2r - src[s2 + 1] * w2i,
        v2i = src[s2] * w2i + src[s2 + 1] * w2r;
      const v3r = src[s3] * w3r - src[s3 + 1] * w3i,
        v3i = src[s3] * w3i + src[s3 + 1] * w3r;
      const v4r = src[s4] * w4r - src[s4 + 1] * w4i,
        v4i = src[s4] * w4i + src[s4 + 1] * w4r;
      const s14r = v1r + v4r,
        s14i = v1i + v4i,
        d14r = v1r - v4r,
        d14i = v1i - v4i;
      const s23r = v2r + v3r,
        s23i = v2i + v3i,
        d23r = v2r - v3r,
        d23i = v2i - v3i;
      const b1r = a0r + C5_1 * s14r + C5_2 * s23r,
        b1i = a0i + C5_1 * s14i + C5_2 * s23i;
      const b2r = a0r + C5_2 * s14r + C5_1 * s23r,
        b2i = a0i + C5_2 * s14i + C5_1 * s23i;
      // the sine parts, multiplied by −i for the forward transform
      const c1r = S5_1 * d14i + S5_2 * d23i,
        c1i = -(S5_1 * d14r + S5_2 * d23r);
      const c2r = S5_2 * d14i - S5_1 * d23i,
        c2i = -(S5_2 * d14r - S5_1 * d23r);
      const h = 2 * span;
      dst[o] = a0r + s14r + s23r;
      dst[o + 1] = a0i + s14i + s23i;
      dst[o + h] = b1r + c1r;
      dst[o + h + 1] = b1i + c1i;
      dst[o + 2 * h] = b2r + c2r;
      dst[o + 2 * h + 1] = b2i + c2i;
      dst[o + 3 * h] = b2r - c2r;
      dst[o + 3 * h + 1] = b2i - c2i;
      dst[o + 4 * h] = b1r - c1r;
      dst[o + 4 * h + 1] = b1i - c1i;
    }
  }

  private butterflyGeneric(
    radix: number,
    src: Float64Array,
    dst: Float64Array,
    j: number,
    stride: number,
    out: number,
    span: number,
    t: Float64Array,
    tw: number,
  ): void {
    const v = this.tmp;
    for (let r = 0; r < radix; r++) {
      const i = 2 * (j + r * stride);
      v[2 * r] = src[i] * t[tw + 2 * r] - src[i + 1] * t[tw + 2 * r + 1];
      v[2 * r + 1] = src[i] * t[tw + 2 * r + 1] + src[i + 1] * t[tw + 2 * r];
    }
    for (let k = 0; k < radix; k++) {
      let re = 0;
      let im = 0;
      for (let r = 0; r < radix; r++) {
        const a = (-2 * Math.PI * ((r * k) % radix)) / radix;
        const c = Math.cos(a);
        const s = Math.sin(a);
        re += v[2 * r] * c - v[2 * r + 1] * s;
        im += v[2 * r] * s + v[2 * r + 1] * c;
      }
      dst[2 * (out + k * span)] = re;
      dst[2 * (out + k * span) + 1] = im;
    }
  }
}
