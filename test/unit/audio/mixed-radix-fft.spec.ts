import { factorize, MixedRadixFft } from '../../../gateway/src/audio/mixed-radix-fft';
import { RealDft } from '../../../gateway/src/audio/real-dft';

/** The DFT straight from its definition, O(n²). */
function naiveDft(re: number[], im: number[]): { re: number[]; im: number[] } {
  const n = re.length;
  const outRe: number[] = [];
  const outIm: number[] = [];
  for (let k = 0; k < n; k++) {
    let sr = 0;
    let si = 0;
    for (let j = 0; j < n; j++) {
      const a = (-2 * Math.PI * ((j * k) % n)) / n;
      sr += re[j] * Math.cos(a) - im[j] * Math.sin(a);
      si += re[j] * Math.sin(a) + im[j] * Math.cos(a);
    }
    outRe.push(sr);
    outIm.push(si);
  }
  return { re: outRe, im: outIm };
}

function randomSignal(n: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
}

describe(MixedRadixFft.name, () => {
  it('should factor 400 into radix-4 and radix-5 stages', () => {
    expect(factorize(400)).toEqual([4, 4, 5, 5]);
    expect(factorize(7 * 9 * 2)).toEqual([2, 3, 3, 7]);
  });

  it.each([1, 2, 3, 4, 5, 8, 10, 12, 20, 25, 28, 40, 100, 400])('should equal the definition of the DFT for n = %i', (n) => {
    const re = randomSignal(n, n);
    const im = randomSignal(n, n + 99);
    const input = new Float64Array(2 * n);
    re.forEach((v, i) => {
      input[2 * i] = v;
      input[2 * i + 1] = im[i];
    });
    const out = new Float64Array(2 * n);
    const sut = new MixedRadixFft(n);
    sut.transform(input, out);
    const ref = naiveDft(re, im);
    for (let k = 0; k < n; k++) {
      expect(Math.abs(out[2 * k] - ref.re[k])).toBeLessThan(1e-10);
      expect(Math.abs(out[2 * k + 1] - ref.im[k])).toBeLessThan(1e-10);
    }
  });

  it('should leave its input untouched and give the same result when reused', () => {
    const sut = new MixedRadixFft(400);
    const input = Float64Array.from(randomSignal(800, 5));
    const copy = input.slice();
    const a = new Float64Array(800);
    const b = new Float64Array(800);
    sut.transform(input, a);
    sut.transform(input, b);
    expect(input).toEqual(copy);
    expect(b).toEqual(a);
  });
});

describe(RealDft.name, () => {
  it.each([2, 4, 10, 50, 800])('should give the magnitudes of the n = %i point DFT of a real frame', (n) => {
    const x = randomSignal(n, 3 * n);
    const ref = naiveDft(x, new Array(n).fill(0));
    const out = new Float64Array(n / 2 + 1);
    new RealDft(n).magnitude(Float64Array.from(x), out);
    for (let k = 0; k <= n / 2; k++) {
      expect(Math.abs(out[k] - Math.hypot(ref.re[k], ref.im[k]))).toBeLessThan(1e-9);
    }
  });

  it('should put a bin-centred cosine into exactly one bin', () => {
    const n = 800;
    const x = Float64Array.from({ length: n }, (_, j) => Math.cos((2 * Math.PI * 37 * j) / n));
    const out = new Float64Array(401);
    new RealDft(n).magnitude(x, out);
    expect(out[37]).toBeCloseTo(n / 2, 9);
    out[37] = 0;
    expect(Math.max(...out)).toBeLessThan(1e-9);
  });

  it.each([
    [800, 37],
    [12, 3],
  ])('should give the same magnitudes for a windowed frame read in place (n=%d, begin=%d)', (n, begin) => {
    // n=800 takes the fused first radix-4 stage, n=12 (6 = 2·3) the fallback path
    const sut = new RealDft(n);
    const y = Float64Array.from({ length: n + 2 * begin }, (_, i) => Math.sin(i * 0.7) + 0.3 * Math.cos(i * 2.1));
    const w = Float64Array.from({ length: n }, (_, j) => 0.5 - 0.5 * Math.cos((2 * Math.PI * j) / n));
    const frame = Float64Array.from({ length: n }, (_, j) => y[begin + j] * w[j]);
    const expected = new Float64Array(n / 2 + 1);
    const actual = new Float64Array(n / 2 + 1);
    sut.magnitude(frame, expected);
    sut.magnitudeWindowed(y, begin, w, actual);
    expect(Array.from(actual)).toEqual(Array.from(expected));
  });

  it('should refuse odd sizes', () => {
    expect(() => new RealDft(799)).toThrow(TypeError);
  });
});
