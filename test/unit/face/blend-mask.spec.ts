import { blendMask, MASK_CACHE_BYTES, MASK_TOP_START } from '../../../gateway/src/face/blend-mask';

describe(blendMask.name, () => {
  const w = 84;
  const h = 113;
  const m = blendMask(w, h);
  const at = (x: number, y: number) => m[y * w + x];

  it('should have one weight per box pixel, all in [0, 1]', () => {
    expect(m.length).toBe(w * h);
    for (const v of m) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
  });

  it('should be zero on the whole box border (no seam)', () => {
    for (let x = 0; x < w; x++) {
      expect(at(x, 0)).toBe(0);
      expect(at(x, h - 1)).toBe(0);
    }
    for (let y = 0; y < h; y++) {
      expect(at(0, y)).toBe(0);
      expect(at(w - 1, y)).toBe(0);
    }
  });

  it('should be 1 in the centre of the lower half (the mouth)', () => {
    expect(at(w >> 1, Math.round(h * 0.75))).toBe(1);
    expect(at(w >> 1, Math.round(h * 0.6))).toBe(1);
  });

  it('should leave the upper face (eyes, above the nose line) untouched', () => {
    for (let y = 0; y < Math.floor(MASK_TOP_START * (h - 1)); y++) expect(at(w >> 1, y)).toBe(0);
  });

  it('should feather: strictly between 0 and 1 near the edges, rising monotonically inwards', () => {
    const y = Math.round(h * 0.75);
    const row = Array.from({ length: w >> 1 }, (_, x) => at(x, y));
    expect(row.some((v) => v > 0 && v < 1)).toBe(true);
    for (let x = 1; x < row.length; x++) expect(row[x]).toBeGreaterThanOrEqual(row[x - 1]);
    const col = Array.from({ length: h }, (_, yy) => at(w >> 1, yy));
    const peak = col.indexOf(1);
    for (let yy = 1; yy <= peak; yy++) expect(col[yy]).toBeGreaterThanOrEqual(col[yy - 1]);
    for (let yy = peak + 1; yy < h; yy++) expect(col[yy]).toBeLessThanOrEqual(col[yy - 1]);
  });

  it('should be left-right symmetric', () => {
    for (let y = 0; y < h; y += 7) for (let x = 0; x < w; x++) expect(at(x, y)).toBeCloseTo(at(w - 1 - x, y), 6);
  });

  it('should reuse the mask for the same box size', () => {
    expect(blendMask(w, h)).toBe(m);
    expect(blendMask(w + 2, h)).not.toBe(m);
  });

  it('should bound the cache by bytes, dropping the least recently used mask first', () => {
    // five big masks of slightly different sizes, four of which fit in the byte budget
    const side = Math.floor(Math.sqrt(MASK_CACHE_BYTES / 4.5 / Float32Array.BYTES_PER_ELEMENT));
    const sizes = [0, 1, 2, 3, 4].map((k) => [side, side - k] as const);
    expect(sizes.slice(0, 4).reduce((t, [a, b]) => t + a * b * 4, 0)).toBeLessThanOrEqual(MASK_CACHE_BYTES);
    const first = sizes.slice(0, 4).map(([a, b]) => blendMask(a, b));
    expect(blendMask(...sizes[0])).toBe(first[0]); // a hit, and now the most recently used
    blendMask(...sizes[4]); // over budget: the least recently used (sizes[1]) goes
    expect(blendMask(...sizes[0])).toBe(first[0]);
    expect(blendMask(...sizes[1])).not.toBe(first[1]);
  });
});
