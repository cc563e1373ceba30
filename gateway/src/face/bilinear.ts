/**
 * Bilinear resampling with OpenCV's INTER_LINEAR geometry (half-pixel centres, edge clamp), the
 * resize Wav2Lip uses for the crop and for the paste back. Tables are per (source, target) length
 * and cached, so per-frame work is only the weighted sums.
 */
export interface AxisTable {
  /** first source index per target index */
  i0: Int32Array;
  /** second source index (i0+1, clamped) */
  i1: Int32Array;
  /** weight of i1 in [0,1) */
  w: Float32Array;
}

const tableCache = new Map<string, AxisTable>();
const MAX_CACHED_TABLES = 4096;

export function axisTable(srcLen: number, dstLen: number): AxisTable {
  const k = `${srcLen}:${dstLen}`;
  const hit = tableCache.get(k);
  if (hit) return hit;
  const t: AxisTable = { i0: new Int32Array(dstLen), i1: new Int32Array(dstLen), w: new Float32Array(dstLen) };
  const scale = srcLen / dstLen;
  for (let d = 0; d < dstLen; d++) {
    const f = (d + 0.5) * scale - 0.5;
    let s = Math.floor(f);
    let w = f - s;
    if (s < 0) {
      s = 0;
      w = 0;
    }
    if (s >= srcLen - 1) {
      s = srcLen - 1;
      w = 0;
    }
    t.i0[d] = s;
    t.i1[d] = Math.min(s + 1, srcLen - 1);
    t.w[d] = w;
  }
  if (tableCache.size >= MAX_CACHED_TABLES) tableCache.clear(); // box sizes vary little; a crude bound is enough
  tableCache.set(k, t);
  return t;
}

/**
 * Resizes the RGB24 region [x, x+w) × [y, y+h) of `src` (row stride `srcWidth`) to dw × dh into
 * `dst` (packed RGB24, rounded to nearest).
 */
export function resizeRegionRgb(
  src: Uint8Array,
  srcWidth: number,
  x: number,
  y: number,
  w: number,
  h: number,
  dw: number,
  dh: number,
  dst: Uint8Array = new Uint8Array(dw * dh * 3),
): Uint8Array {
  const tx = axisTable(w, dw);
  const ty = axisTable(h, dh);
  const stride = srcWidth * 3;
  let o = 0;
  for (let dy = 0; dy < dh; dy++) {
    const r0 = (y + ty.i0[dy]) * stride;
    const r1 = (y + ty.i1[dy]) * stride;
    const wy = ty.w[dy];
    for (let dx = 0; dx < dw; dx++) {
      const c0 = (x + tx.i0[dx]) * 3;
      const c1 = (x + tx.i1[dx]) * 3;
      const wx = tx.w[dx];
      for (let c = 0; c < 3; c++) {
        const top = src[r0 + c0 + c] + (src[r0 + c1 + c] - src[r0 + c0 + c]) * wx;
        const bot = src[r1 + c0 + c] + (src[r1 + c1 + c] - src[r1 + c0 + c]) * wx;
        dst[o++] = Math.round(top + (bot - top) * wy);
      }
    }
  }
  return dst;
}
