import { GatewayError, throwIfAborted } from '../common/errors';
import type { Tblr } from '../render/render.types';
import { fillBoxes, keyFrames, largestFace, padBox, smoothBoxes, snapBox } from './face-box';
import type { FaceDetector } from './face-detector';
import type { DetectedFace, FaceBox } from './face.types';

export interface TrackOptions {
  pads: Tblr;
  smooth: boolean;
  /** at most this many frames run detection; the others are interpolated */
  maxDetections: number;
  signal?: AbortSignal;
}

export interface TrackResult {
  boxes: FaceBox[];
  detections: { frame: number; faces: DetectedFace[] }[];
}

/**
 * Detection → per-frame boxes, the Wav2Lip way with its defects fixed:
 * 1. detect on key frames (all frames when n ≤ maxDetections, else every ⌈n/maxDetections⌉-th
 *    plus the last), take the largest face of each;
 * 2. key frames without a face borrow the nearest key frame's box; frames in between are linearly
 *    interpolated (wav2lip.md §5 #3: no abort while any frame has a face);
 * 3. snap to whole pixels, apply the pads (clamped), then smooth over 5 frames (videos only).
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
  for (const k of keys) {
    throwIfAborted(o.signal);
    const faces = await detector.detect(frames[k], width, height);
    detections.push({ frame: k, faces });
    found.push(largestFace(faces)?.box);
  }
  throwIfAborted(o.signal);
  const raw = fillBoxes(n, keys, found);
  if (!raw) {
    throw new GatewayError('NO_FACE_FOUND', n > 1 ? `no face found in any of ${keys.length} checked frames` : 'no face found in the image');
  }
  const padded = raw.map((b) => padBox(clampBox(snapBox(b), width, height), o.pads, width, height));
  return { boxes: o.smooth && n > 1 ? smoothBoxes(padded) : padded, detections };
}

/** Detector boxes can poke out of the frame; keep them inside before padding. */
function clampBox(b: FaceBox, width: number, height: number): FaceBox {
  return {
    x1: Math.min(Math.max(0, b.x1), width - 1),
    y1: Math.min(Math.max(0, b.y1), height - 1),
    x2: Math.max(Math.min(width, b.x2), 1),
    y2: Math.max(Math.min(height, b.y2), 1),
  };
}
