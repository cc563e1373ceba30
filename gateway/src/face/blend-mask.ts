import { LRUCache } from 'lru-cache';

/**
 * The feathered blend mask for pasting the model's output back into the frame.
 *
 * Shape (u = column, v = row, both 0 at the box's first pixel and 1 at its last):
 *   weight(u, v) = ramp(u / F) · ramp((1−u) / F) · ramp((v − TOP0) / (TOP1 − TOP0)) · ramp((1−v) / F)
 * with ramp = clamped smoothstep and F = 10 % of the box size. So it is exactly 0 on the box border
 * (no seam), 1 over the lower-middle face below the nose line, and the upper face (which the model
 * only reproduces from the reference) fades in between v = 0.35 and v = 0.5, i.e. the top feather
 * sits around the nose. Rows 48–95 of the 96×96 crop (v ≥ 0.5) are what the model regenerates.
 */
export const MASK_FEATHER = 0.1;
export const MASK_TOP_START = 0.35;
export const MASK_TOP_END = 0.5;

const smoothstep = (t: number): number => (t <= 0 ? 0 : t >= 1 ? 1 : t * t * (3 - 2 * t));

function axis(len: number): Float32Array {
  // position 0..1 over pixel indices; the first and last pixel sit exactly on the border
  const a = new Float32Array(len);
  for (let i = 0; i < len; i++) a[i] = len > 1 ? i / (len - 1) : 0.5;
  return a;
}

/** total bytes of cached masks (a 4K face box alone is ~30 MiB): least recently used go first */
export const MASK_CACHE_BYTES = 64 * 1024 * 1024;
const maskCache = new LRUCache<string, Float32Array>({ maxSize: MASK_CACHE_BYTES });

/** Row-major w*h weights in [0,1]; cached per size (callers must not modify the array). */
export function blendMask(w: number, h: number): Float32Array {
  const key = `${w}x${h}`;
  const hit = maskCache.get(key);
  if (hit) return hit;
  const us = axis(w);
  const vs = axis(h);
  const col = new Float32Array(w);
  for (let x = 0; x < w; x++) col[x] = smoothstep(us[x] / MASK_FEATHER) * smoothstep((1 - us[x]) / MASK_FEATHER);
  const m = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const v = vs[y];
    const row = smoothstep((v - MASK_TOP_START) / (MASK_TOP_END - MASK_TOP_START)) * smoothstep((1 - v) / MASK_FEATHER);
    if (row === 0) continue;
    for (let x = 0; x < w; x++) m[y * w + x] = row * col[x];
  }
  maskCache.set(key, m, { size: m.byteLength });
  return m;
}
