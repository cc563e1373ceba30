import { resizeRegionRgb } from './bilinear';
import { CROP_SIZE, FaceBox } from './face.types';

/** The model's `face` input: frame[y1:y2, x1:x2] resized bilinearly to 96×96, RGB. */
export function cropFace(frame: Uint8Array, width: number, box: FaceBox, size = CROP_SIZE): Uint8Array {
  return resizeRegionRgb(frame, width, box.x1, box.y1, box.x2 - box.x1, box.y2 - box.y1, size, size);
}

export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * Encoders (yuv420p) need even sizes: an odd last row and/or column is dropped (top-left anchored,
 * so face boxes keep their coordinates). Returns the input untouched when already even.
 */
export function cropToEven(img: RgbImage): RgbImage {
  const width = img.width & ~1;
  const height = img.height & ~1;
  if (width === img.width && height === img.height) return img;
  const out = new Uint8Array(width * height * 3);
  const srcStride = img.width * 3;
  const dstStride = width * 3;
  for (let y = 0; y < height; y++) out.set(img.data.subarray(y * srcStride, y * srcStride + dstStride), y * dstStride);
  return { data: out, width, height };
}
