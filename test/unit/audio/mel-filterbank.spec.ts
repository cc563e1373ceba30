import { hzToMel, melEdgesHz, melFilterbank, melFilterbankDense, melToHz } from '../../../gateway/src/audio/mel-filterbank';

const SPEC = { sampleRate: 16000, nFft: 800, nMels: 80, fmin: 55, fmax: 7600 };

describe('Slaney mel scale', () => {
  it('should be linear (3 mels per 200 Hz) below 1 kHz', () => {
    expect(hzToMel(0)).toBe(0);
    expect(hzToMel(200)).toBeCloseTo(3, 12);
    expect(hzToMel(1000)).toBeCloseTo(15, 12);
  });

  it('should step by ln(6.4)/27 per mel above 1 kHz', () => {
    // 6400 Hz is 27 log-steps above 1 kHz
    expect(hzToMel(6400)).toBeCloseTo(15 + 27, 10);
    expect(melToHz(42)).toBeCloseTo(6400, 8);
  });

  it.each([55, 440, 999, 1000, 2500, 7600])('should invert hzToMel at %d Hz', (hz) => {
    expect(melToHz(hzToMel(hz))).toBeCloseTo(hz, 9);
  });
});

describe('melFilterbank', () => {
  const edges = melEdgesHz(SPEC);
  const dense = melFilterbankDense(SPEC);

  it('should span 55–7600 Hz with 82 edges', () => {
    expect(edges.length).toBe(82);
    expect(edges[0]).toBeCloseTo(55, 9);
    expect(edges[81]).toBeCloseTo(7600, 9);
  });

  it('should be [80, 401] with triangles inside their edges, peaking near the centre, scaled by 2/(hi−lo)', () => {
    expect(dense.length).toBe(80 * 401);
    for (let b = 0; b < 80; b++) {
      let peak = 0;
      for (let k = 0; k < 401; k++) {
        const f = k * 20;
        const w = dense[b * 401 + k];
        expect(w).toBeGreaterThanOrEqual(0);
        if (f <= edges[b] || f >= edges[b + 2]) expect(w).toBe(0);
        peak = Math.max(peak, w);
      }
      expect(peak).toBeLessThanOrEqual(2 / (edges[b + 2] - edges[b]) + 1e-9);
    }
  });

  it('should keep the same weights in the sparse form', () => {
    const sut = melFilterbank(SPEC);
    const rebuilt = new Float32Array(80 * 401);
    for (let b = 0; b < 80; b++) {
      for (let w = sut.offset[b]; w < sut.offset[b + 1]; w++) rebuilt[b * 401 + sut.start[b] + (w - sut.offset[b])] = sut.weights[w];
    }
    expect(rebuilt).toEqual(dense);
    expect(sut.weights.length).toBeLessThan(2 * 401);
  });
});
