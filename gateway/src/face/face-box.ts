import { GatewayError } from '../common/errors';
import type { Tblr } from '../render/render.types';
import type { DetectedFace, FaceBox } from './face.types';

/** Wav2Lip's default `--pads 0 10 0 0`: 10 px more below the chin. */
export const DEFAULT_PADS: Tblr = [0, 10, 0, 0];
/** Wav2Lip's smoothing window (get_smoothened_boxes T=5). */
export const SMOOTH_WINDOW = 5;

export const boxWidth = (b: FaceBox): number => b.x2 - b.x1;
export const boxHeight = (b: FaceBox): number => b.y2 - b.y1;
export const boxArea = (b: FaceBox): number => Math.max(0, boxWidth(b)) * Math.max(0, boxHeight(b));

/** Manual `--box` (top, bottom, left, right) → FaceBox, checked against the (even) frame size. */
export function manualBox(tblr: Tblr, width: number, height: number): FaceBox {
  if (!Array.isArray(tblr) || tblr.length !== 4 || !tblr.every((v) => Number.isInteger(v))) {
    throw new GatewayError('VALIDATION_FAILED', 'box must be four integers: top, bottom, left, right');
  }
  const [top, bottom, left, right] = tblr;
  if (top < 0 || left < 0 || bottom > height || right > width || bottom - top < 2 || right - left < 2) {
    throw new GatewayError(
      'VALIDATION_FAILED',
      `box [${tblr.join(', ')}] must satisfy 0 <= top < bottom <= ${height} and 0 <= left < right <= ${width} (at least 2 px each way)`,
    );
  }
  return { x1: left, y1: top, x2: right, y2: bottom };
}

export function validatePads(pads: Tblr): Tblr {
  if (!Array.isArray(pads) || pads.length !== 4 || !pads.every((v) => Number.isInteger(v) && Math.abs(v) <= 10_000)) {
    throw new GatewayError('VALIDATION_FAILED', 'pads must be four integers (top, bottom, left, right), |pad| <= 10000');
  }
  return pads;
}

/** Detector rectangle → integer box that encloses it (floor the start, ceil the end). */
export function snapBox(b: FaceBox): FaceBox {
  return { x1: Math.floor(b.x1), y1: Math.floor(b.y1), x2: Math.ceil(b.x2), y2: Math.ceil(b.y2) };
}

/** Wav2Lip's pads, clamped to the frame: y1=max(0,top−p0), y2=min(H,bottom+p1), x1=max(0,left−p2), x2=min(W,right+p3). */
export function padBox(b: FaceBox, pads: Tblr, width: number, height: number): FaceBox {
  const [pt, pb, pl, pr] = pads;
  const out = {
    x1: Math.max(0, b.x1 - pl),
    y1: Math.max(0, b.y1 - pt),
    x2: Math.min(width, b.x2 + pr),
    y2: Math.min(height, b.y2 + pb),
  };
  if (out.x2 - out.x1 < 2 || out.y2 - out.y1 < 2) {
    throw new GatewayError('VALIDATION_FAILED', `pads [${pads.join(', ')}] leave an empty face box`);
  }
  return out;
}

/** Several faces → the largest (by area); ties keep the higher score. Empty → undefined. */
export function largestFace(faces: DetectedFace[]): DetectedFace | undefined {
  let best: DetectedFace | undefined;
  for (const f of faces) {
    const a = boxArea(f.box);
    if (!best || a > boxArea(best.box) || (a === boxArea(best.box) && f.score > best.score)) best = f;
  }
  return best;
}

/**
 * Wav2Lip's 5-frame smoothing: box i = mean of boxes i..i+4, or of the last 5 near the end.
 * Unlike the original (which smooths in place, so late windows average already-smoothed boxes, and
 * truncates to int), every window here reads the unsmoothed boxes and the mean is rounded. With
 * fewer than 5 boxes all of them form the window.
 */
export function smoothBoxes(boxes: FaceBox[], window = SMOOTH_WINDOW): FaceBox[] {
  const n = boxes.length;
  if (n <= 1) return boxes.slice();
  const w = Math.min(window, n);
  return boxes.map((_, i) => {
    const start = Math.min(i, n - w);
    let x1 = 0,
      y1 = 0,
      x2 = 0,
      y2 = 0;
    for (let k = start; k < start + w; k++) {
      x1 += boxes[k].x1;
      y1 += boxes[k].y1;
      x2 += boxes[k].x2;
      y2 += boxes[k].y2;
    }
    return { x1: Math.round(x1 / w), y1: Math.round(y1 / w), x2: Math.round(x2 / w), y2: Math.round(y2 / w) };
  });
}

/** Which frames of an n-frame clip get a detection: every `stride`-th plus the last one. */
export function keyFrames(n: number, stride: number): number[] {
  const s = Math.max(1, Math.floor(stride));
  const out: number[] = [];
  for (let i = 0; i < n; i += s) out.push(i);
  if (n > 0 && out[out.length - 1] !== n - 1) out.push(n - 1);
  return out;
}

/**
 * Per-frame boxes from the chosen face on key frames: frames between two key frames with the face
 * get a linear interpolation of their boxes; between a key frame with the face and one without,
 * each frame follows the nearer of the two (the earlier on a tie), so a frame without the face is
 * undefined (rendered unchanged) instead of borrowing a distant box (issue 15). Returns undefined
 * when no key frame has the face.
 */
export function fillTrack(n: number, keys: number[], found: (FaceBox | undefined)[]): (FaceBox | undefined)[] | undefined {
  if (!found.some(Boolean)) return undefined;
  const out = new Array<FaceBox | undefined>(n).fill(undefined);
  for (let j = 0; j < keys.length; j++) {
    const a = keys[j];
    const last = j + 1 >= keys.length;
    const b = last ? a : keys[j + 1];
    const ba = found[j];
    const bb = last ? ba : found[j + 1];
    const end = last ? n : b;
    for (let i = a; i < end; i++) {
      if (ba && bb) {
        const t = b > a ? (i - a) / (b - a) : 0;
        out[i] = {
          x1: ba.x1 + (bb.x1 - ba.x1) * t,
          y1: ba.y1 + (bb.y1 - ba.y1) * t,
          x2: ba.x2 + (bb.x2 - ba.x2) * t,
          y2: ba.y2 + (bb.y2 - ba.y2) * t,
        };
      } else {
        out[i] = i - a <= b - i ? ba : bb;
      }
    }
  }
  return out;
}

/** smoothBoxes over each run of frames that have a box; frames without one stay undefined. */
export function smoothRuns(boxes: (FaceBox | undefined)[], window = SMOOTH_WINDOW): (FaceBox | undefined)[] {
  const out = boxes.slice();
  for (let i = 0; i < boxes.length;) {
    if (!boxes[i]) {
      i++;
      continue;
    }
    let j = i;
    while (j < boxes.length && boxes[j]) j++;
    smoothBoxes(boxes.slice(i, j) as FaceBox[], window).forEach((b, k) => (out[i + k] = b));
    i = j;
  }
  return out;
}

/** Faces largest first (ties: higher score first); the order `faceIndex` counts in. */
export function largestFirst(faces: DetectedFace[]): DetectedFace[] {
  return faces.slice().sort((a, b) => boxArea(b.box) - boxArea(a.box) || b.score - a.score);
}

/**
 * Which of `faces` (largest first) to use: `faceIndex`, else the face whose box contains
 * `facePoint` (the smallest such, so a face inside a larger false box still wins), else the
 * largest. A selection that matches no face is NO_FACE_FOUND (422), like an image without a face.
 */
export function selectFace(faces: DetectedFace[], sel: { faceIndex?: number; facePoint?: [number, number] }): number {
  if (sel.faceIndex !== undefined) {
    if (!Number.isInteger(sel.faceIndex) || sel.faceIndex < 0 || sel.faceIndex >= faces.length) {
      throw new GatewayError(
        'NO_FACE_FOUND',
        `faceIndex ${sel.faceIndex} is out of range: ${faces.length} face(s) found (0..${faces.length - 1})`,
      );
    }
    return sel.faceIndex;
  }
  if (sel.facePoint) {
    const [x, y] = sel.facePoint;
    let best = -1;
    faces.forEach((f, i) => {
      const inside = x >= f.box.x1 && x < f.box.x2 && y >= f.box.y1 && y < f.box.y2;
      if (inside && (best < 0 || boxArea(f.box) < boxArea(faces[best].box))) best = i;
    });
    if (best < 0) throw new GatewayError('NO_FACE_FOUND', `no face found at facePoint ${x},${y} (${faces.length} face(s) found)`);
    return best;
  }
  return 0;
}
