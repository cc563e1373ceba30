import type { Tblr } from '../render/render.types';
import type { FaceBox, FacePoints5, Point } from './face.types';

/*
 * One box geometry relative to the face, from face-api's 68 landmarks (iBUG 300-W numbering:
 * 0–16 jaw line, 8 chin, 17–26 brows, 36–47 eyes, 30 nose tip, 48/54 mouth corners).
 *
 * Wav2Lip was trained on S3FD boxes of LRS2 faces, and S3FD learnt WIDER FACE's box convention;
 * face-api's SSD MobileNet v1 was trained on WIDER FACE too (face-api.js README), so on a face seen
 * at a comfortable scale the two agree. The constants below reproduce that convention from
 * landmarks, so the box no longer drifts with the face's size in the frame:
 * - bottom = the chin (point 8): SSD's bottom edge sits on the chin (issue 16: −0.01 of the
 *   brow-to-chin distance, sd 0.07, 23 faces), and S3FD's does too or slightly above it: Wav2Lip's
 *   authors note its crops often miss the chin (Rudrabha/Wav2Lip#83), hence upstream's 10 px pad.
 * - top = brow line (mean y of points 17–26) − BROW_SHARE × (chin − brow line). 0.34 is what SSD
 *   gives on a tight square region around the face (issue 16: −0.34 of that distance, sd 0.07);
 *   MuseTalk's landmark rule (box symmetric about nose point 29, bottom at the lowest landmark)
 *   gives 0.29 on the test portrait, inside one sd.
 * - left/right = the jaw line's extent (points 0–16), as MuseTalk does (min/max landmark x); on
 *   the portrait this makes height/width 1.16, close to the 1.20 of the tight SSD boxes.
 */
export const BROW_SHARE = 0.34;
/** the landmark model's input region: a square this many times the detector box's larger side */
export const LANDMARK_REGION = 1.3;
/**
 * second landmark pass on a square this many times the first landmark box's larger side: the
 * result no longer depends on where the detector put its box (the first pass's region does),
 * which took the spread over sizes and places from 5 % to 2 % of the box height on the portrait
 */
export const LANDMARK_REFINE_REGION = 1.2;
/** fallback: SSD again on a square region this many times the first box's larger side */
export const SECOND_PASS_REGION = 2.5;
/**
 * Default bottom pad as a share of the box height. Upstream pads 10 px below S3FD boxes of LRS2
 * faces: LRS2 clips are 160×160 face-centred crops whose face boxes are about 100 px tall, and the
 * model sees the crop at 96 px, so 10 px ≈ 0.10 of the box. As a share the crop is the same at
 * every face size; explicit pads stay in pixels, as upstream.
 */
export const BOTTOM_PAD_SHARE = 0.1;

export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A square of side factor × the box's larger side, centred on the box, clipped to the frame (integers). */
export function squareRegion(b: FaceBox, factor: number, width: number, height: number): Region {
  const cx = (b.x1 + b.x2) / 2;
  const cy = (b.y1 + b.y2) / 2;
  const half = (Math.max(b.x2 - b.x1, b.y2 - b.y1) * factor) / 2;
  const x1 = Math.max(0, Math.floor(cx - half));
  const y1 = Math.max(0, Math.floor(cy - half));
  const x2 = Math.min(width, Math.ceil(cx + half));
  const y2 = Math.min(height, Math.ceil(cy + half));
  return { x: x1, y: y1, width: Math.max(0, x2 - x1), height: Math.max(0, y2 - y1) };
}

/** Copies a region of a packed RGB24 frame into its own buffer. */
export function cropRegion(rgb: Uint8Array, frameWidth: number, r: Region): Uint8Array {
  const out = new Uint8Array(r.width * r.height * 3);
  const row = r.width * 3;
  for (let y = 0; y < r.height; y++) {
    const src = ((r.y + y) * frameWidth + r.x) * 3;
    out.set(rgb.subarray(src, src + row), y * row);
  }
  return out;
}

const mean = (pts: Point[]): Point => ({
  x: pts.reduce((s, p) => s + p.x, 0) / pts.length,
  y: pts.reduce((s, p) => s + p.y, 0) / pts.length,
});

/** The box of the documented geometry (fractional, unclipped) from 68 landmarks. */
export function landmarkBox(p: Point[]): FaceBox {
  const browY = mean(p.slice(17, 27)).y;
  const chinY = p[8].y;
  const jaw = p.slice(0, 17).map((q) => q.x);
  return { x1: Math.min(...jaw), y1: browY - BROW_SHARE * (chinY - browY), x2: Math.max(...jaw), y2: chinY };
}

/**
 * Whether 68 points look like a face that belongs to the detection: all finite, the chin below
 * the brows by 0.4–2.5 detector heights, a jaw at least a third of that wide, and the landmark
 * box's centre inside the detector box. The landmark model always answers, even on a wall: this
 * is what "landmarks failed" means.
 */
export function plausibleLandmarks(p: Point[], det: FaceBox): boolean {
  if (p.length !== 68 || !p.every((q) => Number.isFinite(q.x) && Number.isFinite(q.y))) return false;
  const h = det.y2 - det.y1;
  const d = p[8].y - mean(p.slice(17, 27)).y;
  if (!(d > 0.4 * h && d < 2.5 * h)) return false;
  const b = landmarkBox(p);
  if (b.x2 - b.x1 < d / 3) return false;
  const cx = (b.x1 + b.x2) / 2;
  const cy = (b.y1 + b.y2) / 2;
  return cx > det.x1 && cx < det.x2 && cy > det.y1 && cy < det.y2;
}

/** The 5 points a client needs to show what was used: eye centres, nose tip, mouth corners (image left/right). */
export function fivePoints(p: Point[]): FacePoints5 {
  const r = (q: Point): Point => ({ x: Math.round(q.x * 10) / 10, y: Math.round(q.y * 10) / 10 });
  return {
    leftEye: r(mean(p.slice(36, 42))),
    rightEye: r(mean(p.slice(42, 48))),
    nose: r(p[30]),
    mouthLeft: r(p[48]),
    mouthRight: r(p[54]),
  };
}

export const shiftPoints = (p: Point[], dx: number, dy: number): Point[] => p.map((q) => ({ x: q.x + dx, y: q.y + dy }));

/** Default pads for a box: BOTTOM_PAD_SHARE of its height below it, rounded to whole pixels. */
export function relativePads(b: FaceBox): Tblr {
  return [0, Math.round(BOTTOM_PAD_SHARE * (b.y2 - b.y1)), 0, 0];
}

export const boxCentre = (b: FaceBox): Point => ({ x: (b.x1 + b.x2) / 2, y: (b.y1 + b.y2) / 2 });

/** Intersection over union of two boxes (0 when either is empty). */
export function iou(a: FaceBox, b: FaceBox): number {
  const iw = Math.max(0, Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1));
  const ih = Math.max(0, Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1));
  const inter = iw * ih;
  const area = (x: FaceBox) => Math.max(0, x.x2 - x.x1) * Math.max(0, x.y2 - x.y1);
  const union = area(a) + area(b) - inter;
  return union > 0 ? inter / union : 0;
}
