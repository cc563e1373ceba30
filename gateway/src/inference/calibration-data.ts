import { resizeRegionRgb } from '../face/bilinear';
import type { RgbImage } from '../face/face-crop';
import { FACE_ELEMENTS, MEL_WINDOW_ELEMENTS } from './model-contract';

/**
 * What `lipsync calib-data` feeds the INT8 quantizer (triton/quantize_int8.py): real model inputs,
 * mel windows of espeak-ng speech and face crops of the fixture faces made by the project's own
 * detector and crop code. The calibration and held-out sets use different sentences and different
 * face variants, so the export check measures int8 on inputs the ranges were not fitted to.
 *
 * Layout written under --out DIR (documented in the README, read by export_onnx.py --calibration DIR):
 *   DIR/calibration/mel.npy   float32 [N, 1, 80, 16]    DIR/calibration/face.npy  uint8 [N, 96, 96, 3] RGB
 *   DIR/holdout/mel.npy       float32 [M, 1, 80, 16]    DIR/holdout/face.npy      uint8 [M, 96, 96, 3] RGB
 *   DIR/manifest.json         the sentences, voices and face variants of each set
 */
export interface Sentence {
  text: string;
  voice: string;
  rate: number;
}

/** A fixture face and how it is changed before detection (mirror, whole-frame scale). */
export interface FaceVariant {
  file: 'astronaut.png' | 'astronaut-sway.mp4';
  flip: boolean;
  scale: number;
  /** video only: which decoded frames are used */
  frames?: 'even' | 'odd';
}

export interface CalibrationPlan {
  sentences: Sentence[];
  faces: FaceVariant[];
}

export const CALIBRATION_PLAN: CalibrationPlan = {
  sentences: [
    { text: 'The quick brown fox jumps over the lazy dog.', voice: 'en-us', rate: 165 },
    { text: 'Peter Piper picked a peck of pickled peppers.', voice: 'en-gb', rate: 140 },
    { text: 'She sells sea shells by the sea shore, and the shells she sells are surely seashells.', voice: 'en-us', rate: 180 },
    { text: 'One, two, three, four, five, six, seven, eight, nine, ten.', voice: 'en-gb', rate: 150 },
    { text: 'Video calls look more natural when the mouth moves with every word.', voice: 'en-us', rate: 200 },
  ],
  faces: [
    { file: 'astronaut.png', flip: false, scale: 1 },
    { file: 'astronaut.png', flip: false, scale: 0.5 },
    { file: 'astronaut.png', flip: false, scale: 1.5 },
    { file: 'astronaut-sway.mp4', flip: false, scale: 1, frames: 'even' },
  ],
};

export const HOLDOUT_PLAN: CalibrationPlan = {
  sentences: [
    { text: 'How much wood would a woodchuck chuck if a woodchuck could chuck wood?', voice: 'en-us', rate: 160 },
    { text: 'Lip sync models learn the shape of the mouth from the sound of speech.', voice: 'en-gb', rate: 175 },
  ],
  faces: [
    { file: 'astronaut.png', flip: true, scale: 1 },
    // (mirrored frames below ~400 px make face-api report the whole suit as a second, larger "face")
    { file: 'astronaut.png', flip: true, scale: 1.25 },
    { file: 'astronaut-sway.mp4', flip: false, scale: 1.25, frames: 'odd' },
  ],
};

/** `count` indices spread evenly over 0..total-1 (first and last included when count ≥ 2). */
export function spread(total: number, count: number): number[] {
  if (total <= 0 || count <= 0) return [];
  if (count === 1) return [0];
  return Array.from({ length: count }, (_, k) => Math.round((k * (total - 1)) / (count - 1)));
}

/** Mirror image (left ↔ right) of packed RGB24. */
export function flipRgb(img: RgbImage): RgbImage {
  const { width, height, data } = img;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) {
    const row = y * width * 3;
    for (let x = 0; x < width; x++) {
      const s = row + x * 3;
      const d = row + (width - 1 - x) * 3;
      out[d] = data[s];
      out[d + 1] = data[s + 1];
      out[d + 2] = data[s + 2];
    }
  }
  return { width, height, data: out };
}

/** The whole frame resized by `factor` (bilinear), sizes rounded to even so the encoder rules hold. */
export function scaleRgb(img: RgbImage, factor: number): RgbImage {
  if (factor === 1) return img;
  const width = Math.max(2, Math.round((img.width * factor) / 2) * 2);
  const height = Math.max(2, Math.round((img.height * factor) / 2) * 2);
  return { width, height, data: resizeRegionRgb(img.data, img.width, 0, 0, img.width, img.height, width, height) };
}

/**
 * `n` model inputs: windows spread over all sentences' windows, crops cycled so that every face
 * variant meets many mouth shapes. windows: [W × 1280] floats; crops: 96×96×3 each.
 */
export function pairInputs(windows: Float32Array, crops: Uint8Array[], n: number): { mel: Float32Array; face: Uint8Array } {
  const total = windows.length / MEL_WINDOW_ELEMENTS;
  if (!Number.isInteger(total) || total < 1) throw new RangeError('no mel windows to calibrate with');
  if (!crops.length) throw new RangeError('no face crops to calibrate with');
  const mel = new Float32Array(n * MEL_WINDOW_ELEMENTS);
  const face = new Uint8Array(n * FACE_ELEMENTS);
  spread(total, n).forEach((w, k) => {
    mel.set(windows.subarray(w * MEL_WINDOW_ELEMENTS, (w + 1) * MEL_WINDOW_ELEMENTS), k * MEL_WINDOW_ELEMENTS);
    face.set(crops[k % crops.length], k * FACE_ELEMENTS);
  });
  return { mel, face };
}
