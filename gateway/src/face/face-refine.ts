import type { FaceDetector } from './face-detector';
import {
  boxCentre,
  cropRegion,
  fivePoints,
  iou,
  LANDMARK_REFINE_REGION,
  LANDMARK_REGION,
  landmarkBox,
  plausibleLandmarks,
  SECOND_PASS_REGION,
  shiftPoints,
  squareRegion,
  type Region,
} from './face-geometry';
import type { BoxMethod, FaceBox, FacePoints5, Point } from './face.types';

export interface RefinedBox {
  /** fractional, unclipped, before pads */
  box: FaceBox;
  method: Exclude<BoxMethod, 'manual'>;
  landmarks?: FacePoints5;
}

/** Smallest region worth running a model on (the landmark net's input is 112 px, SSD's 512). */
const MIN_REGION = 8;

/**
 * The fallback chain for one detected face in one frame (issue 16):
 * 1. landmarks on a square region around the detection, then again on a region around the
 *    landmark box (so the result does not depend on where SSD put its box), box by
 *    face-geometry.ts; used when both passes give plausible points;
 * 2. otherwise SSD again on a square region 2.5× the first box (a face at a comfortable scale for
 *    SSD, whose box then sits close to the same geometry), the face that overlaps the first box most;
 * 3. otherwise the first box.
 * A detector without `landmarks` keeps its raw boxes (no refinement at all).
 */
export async function refineFace(
  detector: FaceDetector,
  rgb: Uint8Array,
  width: number,
  height: number,
  det: FaceBox,
): Promise<RefinedBox> {
  if (!detector.landmarks) return { box: det, method: 'detector' };
  const lm = await landmarksAround(detector, rgb, width, height, det).catch(() => undefined);
  if (lm) return { box: landmarkBox(lm), method: 'landmarks', landmarks: fivePoints(lm) };
  const second = await secondPass(detector, rgb, width, height, det).catch(() => undefined);
  if (second) return { box: second, method: 'second-pass' };
  return { box: det, method: 'detector' };
}

async function landmarksAround(
  detector: FaceDetector,
  rgb: Uint8Array,
  width: number,
  height: number,
  det: FaceBox,
): Promise<Point[] | undefined> {
  const first = await landmarksIn(detector, rgb, width, squareRegion(det, LANDMARK_REGION, width, height));
  if (!first || !plausibleLandmarks(first, det)) return undefined;
  const second = await landmarksIn(detector, rgb, width, squareRegion(landmarkBox(first), LANDMARK_REFINE_REGION, width, height));
  return second && plausibleLandmarks(second, det) ? second : undefined;
}

async function landmarksIn(detector: FaceDetector, rgb: Uint8Array, width: number, r: Region): Promise<Point[] | undefined> {
  if (r.width < MIN_REGION || r.height < MIN_REGION) return undefined;
  const pts = await detector.landmarks!(cropRegion(rgb, width, r), r.width, r.height);
  return shiftPoints(pts, r.x, r.y);
}

async function secondPass(
  detector: FaceDetector,
  rgb: Uint8Array,
  width: number,
  height: number,
  det: FaceBox,
): Promise<FaceBox | undefined> {
  const r = squareRegion(det, SECOND_PASS_REGION, width, height);
  if (r.width < MIN_REGION || r.height < MIN_REGION) return undefined;
  const faces = await detector.detect(cropRegion(rgb, width, r), r.width, r.height);
  let best: FaceBox | undefined;
  let bestIou = 0.3; // below this it is another face, not a better box of this one
  for (const f of faces) {
    const b = { x1: f.box.x1 + r.x, y1: f.box.y1 + r.y, x2: f.box.x2 + r.x, y2: f.box.y2 + r.y };
    const o = iou(b, det);
    if (o > bestIou) {
      best = b;
      bestIou = o;
    }
  }
  return best;
}

/** For tracking: the face in `faces` that continues `prev` (overlap, else a centre within half its size), or undefined. */
export function continueTrack<T extends { box: FaceBox }>(faces: T[], prev: FaceBox): T | undefined {
  let best: T | undefined;
  let bestScore = 0;
  const pc = boxCentre(prev);
  const size = Math.max(prev.x2 - prev.x1, prev.y2 - prev.y1);
  for (const f of faces) {
    const c = boxCentre(f.box);
    const dist = Math.hypot(c.x - pc.x, c.y - pc.y);
    if (dist > size * 0.5 && iou(f.box, prev) < 0.2) continue;
    const score = iou(f.box, prev) + (1 - Math.min(1, dist / size));
    if (score > bestScore) {
      best = f;
      bestScore = score;
    }
  }
  return best;
}
