import { axisTable } from '../face/bilinear';
import { CROP_SIZE, FaceBox } from '../face/face.types';

/**
 * Pastes one generated 96×96 RGB mouth crop back into a frame: bilinear resize to the box size
 * (OpenCV INTER_LINEAR geometry, tables cached per box size) fused with a feathered blend through
 * `mask` (see face/blend-mask.ts). Pure and allocation-free per frame.
 *
 * Guarantees: pixels outside the box are never written; where mask = 0 the source byte stays as it
 * was; where mask = 1 the pixel is the rounded bilinear resize of the mouth crop. `weight` scales the
 * whole mask (silence.ts fades the paste out in pauses): at 0 nothing is written at all.
 */
export function compositeInto(
  dst: Uint8Array,
  width: number,
  box: FaceBox,
  mouth96: Uint8Array,
  mask: Float32Array,
  weight = 1,
  cropSize = CROP_SIZE,
): void {
  const bw = box.x2 - box.x1;
  const bh = box.y2 - box.y1;
  if (bw <= 0 || bh <= 0 || weight <= 0) return;
  if (mask.length !== bw * bh) throw new RangeError(`mask has ${mask.length} weights, box needs ${bw}x${bh}`);
  if (mouth96.length !== cropSize * cropSize * 3) throw new RangeError(`mouth crop must be ${cropSize}x${cropSize}x3`);
  if (box.x1 < 0 || box.y1 < 0 || box.x2 > width || box.y2 * width * 3 > dst.length) {
    throw new RangeError('box lies outside the frame');
  }
  const tx = axisTable(cropSize, bw);
  const ty = axisTable(cropSize, bh);
  const stride = width * 3;
  const srcStride = cropSize * 3;
  for (let y = 0; y < bh; y++) {
    const r0 = ty.i0[y] * srcStride;
    const r1 = ty.i1[y] * srcStride;
    const wy = ty.w[y];
    const mrow = y * bw;
    let o = (box.y1 + y) * stride + box.x1 * 3;
    for (let x = 0; x < bw; x++, o += 3) {
      const m = weight >= 1 ? mask[mrow + x] : mask[mrow + x] * weight;
      if (m <= 0) continue;
      const c0 = tx.i0[x] * 3;
      const c1 = tx.i1[x] * 3;
      const wx = tx.w[x];
      for (let c = 0; c < 3; c++) {
        const top = mouth96[r0 + c0 + c] + (mouth96[r0 + c1 + c] - mouth96[r0 + c0 + c]) * wx;
        const bot = mouth96[r1 + c0 + c] + (mouth96[r1 + c1 + c] - mouth96[r1 + c0 + c]) * wx;
        const v = top + (bot - top) * wy;
        const s = dst[o + c];
        dst[o + c] = m >= 1 ? Math.round(v) : Math.round(s + (v - s) * m);
      }
    }
  }
}
