import { melFrameCount, melSpectrogram, preEmphasis, reflectIndex } from '../../../gateway/src/audio/mel-spectrogram';

const SR = 16000;

function tone(hz: number, seconds: number, amplitude = 0.5): Float32Array {
  return Float32Array.from({ length: Math.round(seconds * SR) }, (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / SR));
}

// Slaney mel scale written out again here, independent of mel-filterbank.ts
const slaneyMel = (hz: number) => (hz < 1000 ? (3 * hz) / 200 : 15 + (27 * Math.log(hz / 1000)) / Math.log(6.4));
const slaneyHz = (mel: number) => (mel < 15 ? (200 * mel) / 3 : 1000 * Math.exp(((mel - 15) * Math.log(6.4)) / 27));
function bandCentreHz(band: number): number {
  const lo = slaneyMel(55);
  const hi = slaneyMel(7600);
  return slaneyHz(lo + ((hi - lo) * (band + 1)) / 81);
}

function column(mel: { data: Float32Array; frames: number }, t: number): number[] {
  return Array.from({ length: 80 }, (_, b) => mel.data[b * mel.frames + t]);
}

/** numpy.pad(x, p, mode='reflect') done the way numpy does it: reflect repeatedly, one period at a time. */
function numpyReflectPad(x: number[], p: number): number[] {
  if (x.length === 1) return new Array(x.length + 2 * p).fill(x[0]); // numpy repeats a lone sample
  let out = x.slice();
  let left = p;
  let right = p;
  while (left > 0 || right > 0) {
    const n = out.length;
    const l = Math.min(left, n - 1);
    const r = Math.min(right, n - 1);
    const head = out.slice(1, 1 + l).reverse();
    const tail = out.slice(n - 1 - r, n - 1).reverse();
    out = [...head, ...out, ...tail];
    left -= l;
    right -= r;
  }
  return out;
}

describe('melSpectrogram', () => {
  it('should give 1 + floor(len/200) frames', () => {
    for (const n of [0, 1, 199, 200, 401, 16000, 16001]) {
      const mel = melSpectrogram(new Float32Array(n));
      expect(mel.frames).toBe(1 + Math.floor(n / 200));
      expect(melFrameCount(n)).toBe(mel.frames);
      expect(mel.data.length).toBe(80 * mel.frames);
    }
  });

  it('should map silence to −4 everywhere', () => {
    const mel = melSpectrogram(new Float32Array(8000));
    expect(Array.from(new Set(mel.data))).toEqual([-4]);
  });

  it.each([10, 30, 45, 60, 75])('should peak in band %i for a tone at that band centre', (band) => {
    const hz = bandCentreHz(band);
    const mel = melSpectrogram(tone(hz, 0.5));
    const col = column(mel, Math.floor(mel.frames / 2));
    expect(col.indexOf(Math.max(...col))).toBe(band);
  });

  it('should clip loud input at +4 and never leave [−4, 4]', () => {
    const mel = melSpectrogram(tone(3000, 0.3, 2000));
    let max = -Infinity;
    let min = Infinity;
    for (const v of mel.data) {
      max = Math.max(max, v);
      min = Math.min(min, v);
    }
    expect(max).toBe(4);
    expect(min).toBeGreaterThanOrEqual(-4);
  });

  it('should be finite for signals shorter than the 400-sample padding', () => {
    for (const n of [1, 2, 3, 100, 399, 400, 401]) {
      const mel = melSpectrogram(tone(700, n / SR, 0.5).map((v, i) => v + (i === 0 ? 0.3 : 0)));
      expect(mel.data.every((v) => Number.isFinite(v) && v >= -4 && v <= 4)).toBe(true);
    }
  });

  it('should depend on the sign of nothing: −x gives the same mel', () => {
    const x = tone(523, 0.2);
    const a = melSpectrogram(x);
    const b = melSpectrogram(x.map((v) => -v));
    expect(b.data).toEqual(a.data);
  });
});

describe('preEmphasis', () => {
  it('should keep the first sample and subtract 0.97 of the previous one after', () => {
    const y = preEmphasis(Float32Array.from([1, 2, 0.5]));
    expect(Array.from(y)).toEqual([1, 2 - 0.97, 0.5 - 0.97 * 2]);
  });
});

describe('reflectIndex', () => {
  it.each([1, 2, 3, 7, 50, 401])('should match numpy reflect padding by 400 for length %i', (n) => {
    const x = Array.from({ length: n }, (_, i) => i);
    const padded = numpyReflectPad(x, 400);
    const ours = Array.from({ length: n + 800 }, (_, j) => x[reflectIndex(j - 400, n)]);
    expect(ours).toEqual(padded);
  });
});
