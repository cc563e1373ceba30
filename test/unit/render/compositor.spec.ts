import { blendMask } from '../../../gateway/src/face/blend-mask';
import { compositeInto } from '../../../gateway/src/render/compositor';

const W = 160;
const H = 120;
const box = { x1: 30, y1: 20, x2: 114, y2: 111 }; // 84 x 91, not a multiple of 96

/** A deterministic "noisy" source frame, so any stray write is visible. */
function sourceFrame(): Uint8Array {
  const f = new Uint8Array(W * H * 3);
  let s = 12345;
  for (let i = 0; i < f.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    f[i] = s >>> 24;
  }
  return f;
}

function constantMouth(r: number, g: number, b: number): Uint8Array {
  const m = new Uint8Array(96 * 96 * 3);
  for (let i = 0; i < m.length; i += 3) {
    m[i] = r;
    m[i + 1] = g;
    m[i + 2] = b;
  }
  return m;
}

const bw = box.x2 - box.x1;
const bh = box.y2 - box.y1;
const inBox = (x: number, y: number) => x >= box.x1 && x < box.x2 && y >= box.y1 && y < box.y2;

describe(compositeInto.name, () => {
  it('should leave every pixel outside the box byte-identical', () => {
    const src = sourceFrame();
    const dst = src.slice();
    compositeInto(dst, W, box, constantMouth(9, 200, 77), blendMask(bw, bh));
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        if (inBox(x, y)) continue;
        const o = (y * W + x) * 3;
        expect([dst[o], dst[o + 1], dst[o + 2]]).toEqual([src[o], src[o + 1], src[o + 2]]);
      }
    }
  });

  it('should write the mouth where the mask is 1 and keep the source where it is 0', () => {
    const mask = new Float32Array(bw * bh);
    for (let y = 0; y < bh; y++) for (let x = 0; x < bw; x++) mask[y * bw + x] = x < bw / 2 ? 1 : 0;
    const src = sourceFrame();
    const dst = src.slice();
    compositeInto(dst, W, box, constantMouth(9, 200, 77), mask);
    for (let y = 0; y < bh; y++) {
      for (let x = 0; x < bw; x++) {
        const o = ((box.y1 + y) * W + box.x1 + x) * 3;
        const got = [dst[o], dst[o + 1], dst[o + 2]];
        expect(got).toEqual(mask[y * bw + x] === 1 ? [9, 200, 77] : [src[o], src[o + 1], src[o + 2]]);
      }
    }
  });

  it('should resize the mouth bilinearly to the box (a vertical ramp stays a ramp)', () => {
    // mouth row r has value 2r: with 96 → 91 rows, target row y samples r = (y + 0.5) * 96/91 − 0.5
    const mouth = new Uint8Array(96 * 96 * 3);
    for (let r = 0; r < 96; r++) mouth.fill(2 * r, r * 96 * 3, (r + 1) * 96 * 3);
    const dst = sourceFrame();
    compositeInto(dst, W, box, mouth, new Float32Array(bw * bh).fill(1));
    for (let y = 0; y < bh; y++) {
      const r = Math.min(95, Math.max(0, (y + 0.5) * (96 / bh) - 0.5));
      const o = ((box.y1 + y) * W + box.x1 + 40) * 3;
      expect(Math.abs(dst[o] - 2 * r)).toBeLessThanOrEqual(0.5 + 1e-6);
    }
  });

  it('should mix source and mouth in proportion to a fractional weight', () => {
    const src = new Uint8Array(W * H * 3).fill(100);
    const dst = src.slice();
    compositeInto(dst, W, box, constantMouth(200, 0, 100), new Float32Array(bw * bh).fill(0.25));
    const o = ((box.y1 + 5) * W + box.x1 + 5) * 3;
    expect([dst[o], dst[o + 1], dst[o + 2]]).toEqual([125, 75, 100]);
  });

  it('should blend without a seam: with the real mask the box border keeps the source', () => {
    const src = sourceFrame();
    const dst = src.slice();
    compositeInto(dst, W, box, constantMouth(255, 255, 255), blendMask(bw, bh));
    for (let x = box.x1; x < box.x2; x++) {
      for (const y of [box.y1, box.y2 - 1]) {
        const o = (y * W + x) * 3;
        expect(dst[o]).toBe(src[o]);
      }
    }
    // and the mouth centre is fully replaced
    const c = ((box.y1 + Math.round(bh * 0.75)) * W + box.x1 + (bw >> 1)) * 3;
    expect([dst[c], dst[c + 1], dst[c + 2]]).toEqual([255, 255, 255]);
  });

  it('should reject a mask of the wrong size and a box outside the frame', () => {
    const dst = sourceFrame();
    expect(() => compositeInto(dst, W, box, constantMouth(0, 0, 0), new Float32Array(10))).toThrow(RangeError);
    const out = { x1: 100, y1: 100, x2: 170, y2: 130 };
    expect(() => compositeInto(dst, W, out, constantMouth(0, 0, 0), new Float32Array(70 * 30))).toThrow(RangeError);
  });
});

describe('compositeInto weight (silence fades)', () => {
  const W = 64;
  const box = { x1: 8, y1: 8, x2: 40, y2: 40 };
  const mouth = new Uint8Array(96 * 96 * 3).fill(200);
  const mask = new Float32Array(32 * 32).fill(1);

  it('should write nothing at weight 0 and blend proportionally in between', () => {
    const src = new Uint8Array(W * W * 3).fill(100);
    const dst = Uint8Array.from(src);
    compositeInto(dst, W, box, mouth, mask, 0);
    expect(dst).toEqual(src);
    compositeInto(dst, W, box, mouth, mask, 0.25);
    const o = (20 * W + 20) * 3;
    expect(dst[o]).toBe(125); // 100 + (200 − 100) · 0.25
    compositeInto(dst, W, box, mouth, mask, 1);
    expect(dst[o]).toBe(200);
  });
});
