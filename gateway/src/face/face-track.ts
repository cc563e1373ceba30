import { GatewayError, throwIfAborted } from '../common/errors';
import type { Tblr } from '../render/render.types';
import { fillTrack, keyFrames, largestFirst, padBox, selectFace, smoothRuns, snapBox } from './face-box';
import type { FaceDetector } from './face-detector';
import { relativePads } from './face-geometry';
import { continueTrack, refineFace } from './face-refine';
import type { DetectedFace, FaceBox, FaceReport, FaceSelection } from './face.types';

export interface TrackOptions extends FaceSelection {
  /** explicit pads in pixels; undefined = the default share of the box height (face-geometry.ts) */
  pads?: Tblr;
  smooth: boolean;
  /** at most this many frames run detection; the others are interpolated */
  maxDetections: number;
  signal?: AbortSignal;
}

export interface TrackResult {
  /** per frame; undefined where the chosen face was not found (that frame is rendered unchanged) */
  boxes: (FaceBox | undefined)[];
  detections: { frame: number; faces: DetectedFace[] }[];
  face: FaceReport;
}

/**
 * Detection → per-frame boxes:
 * 1. detect on key frames (all frames when n ≤ maxDetections, else every ⌈n/maxDetections⌉-th
 *    plus the last); on the first key frame with faces choose one (largest, faceIndex or
 *    facePoint), then follow it from key frame to key frame by overlap / centre distance;
 * 2. on each key frame with the face, refine its box (landmarks → second SSD pass → first box,
 *    face-refine.ts);
 * 3. fill the other frames (interpolated; frames nearer a key frame without the face have none),
 *    snap to whole pixels, pad (default: a share of the box height), smooth over 5 frames (videos).
 * No face on any key frame → NO_FACE_FOUND.
 */
export async function trackFaces(
  frames: Uint8Array[],
  width: number,
  height: number,
  detector: FaceDetector,
  o: TrackOptions,
): Promise<TrackResult> {
  const n = frames.length;
  const keys = keyFrames(n, Math.ceil(n / Math.max(1, o.maxDetections)));
  const detections: TrackResult['detections'] = [];
  const found: (FaceBox | undefined)[] = [];
  let report: FaceReport | undefined;
  let prev: FaceBox | undefined;
  for (const k of keys) {
    throwIfAborted(o.signal);
    const faces = largestFirst(await detector.detect(frames[k], width, height));
    detections.push({ frame: k, faces });
    let chosen: DetectedFace | undefined;
    let selected = -1;
    if (!prev) {
      if (faces.length) {
        selected = selectFace(faces, o);
        chosen = faces[selected];
      }
    } else chosen = continueTrack(faces, prev);
    if (!chosen) {
      found.push(undefined);
      continue;
    }
    prev = chosen.box;
    const refined = await refineFace(detector, frames[k], width, height, clampBox(chosen.box, width, height));
    found.push(refined.box);
    report ??= { faces, selected, box: roundBox(refined.box), method: refined.method, landmarks: refined.landmarks };
  }
  throwIfAborted(o.signal);
  const raw = fillTrack(n, keys, found);
  if (!raw || !report) {
    throw new GatewayError('NO_FACE_FOUND', n > 1 ? `no face found in any of ${keys.length} checked frames` : 'no face found in the image');
  }
  const padded = raw.map((b) => {
    if (!b) return undefined;
    const snapped = clampBox(snapBox(b), width, height);
    return padBox(snapped, o.pads ?? relativePads(snapped), width, height);
  });
  return { boxes: o.smooth && n > 1 ? smoothRuns(padded) : padded, detections, face: report };
}

/** Detector and landmark boxes can poke out of the frame; keep them inside before padding. */
function clampBox(b: FaceBox, width: number, height: number): FaceBox {
  return {
    x1: Math.min(Math.max(0, b.x1), width - 1),
    y1: Math.min(Math.max(0, b.y1), height - 1),
    x2: Math.max(Math.min(width, b.x2), 1),
    y2: Math.max(Math.min(height, b.y2), 1),
  };
}

const roundBox = (b: FaceBox): FaceBox => ({ x1: Math.round(b.x1), y1: Math.round(b.y1), x2: Math.round(b.x2), y2: Math.round(b.y2) });
