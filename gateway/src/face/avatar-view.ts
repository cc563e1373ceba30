import { blendMask } from './blend-mask';
import { cropFace } from './face-crop';
import type { AvatarTimings, FaceBox, FaceReport, PreparedAvatar } from './face.types';

/** A prepared avatar as held in memory, shared by every call that hits it. */
export interface AvatarEntry {
  key: string;
  /** sha256 of the source bytes (= the REST avatarId), so a delete can find every entry of a face */
  hash: string;
  width: number;
  height: number;
  isVideo: boolean;
  fps?: number;
  frames: Uint8Array[];
  /** undefined where the chosen face was not found */
  boxes: (FaceBox | undefined)[];
  /** per frame: the frame's box, or the nearest frame's box where it has none (crops stay valid) */
  nearest: FaceBox[];
  face: FaceReport;
  crops: (Uint8Array | undefined)[];
}

/** What a caller gets of an entry: frames, boxes, crops (made once, on first use) and masks, by frame index. */
export function viewAvatar(e: AvatarEntry, source: PreparedAvatar['source'], timings: AvatarTimings): PreparedAvatar {
  const check = (i: number): number => {
    if (!Number.isInteger(i) || i < 0 || i >= e.frames.length) {
      throw new RangeError(`avatar frame ${i} out of range 0..${e.frames.length - 1} (map it with avatarFrameIndex)`);
    }
    return i;
  };
  return {
    key: e.key,
    width: e.width,
    height: e.height,
    frameCount: e.frames.length,
    isVideo: e.isVideo,
    fps: e.fps,
    frame: (i) => e.frames[check(i)],
    box: (i) => e.nearest[check(i)],
    hasFace: (i) => e.boxes[check(i)] !== undefined,
    face: e.face,
    crop: (i) => (e.crops[check(i)] ??= cropFace(e.frames[i], e.width, e.nearest[i])),
    mask: (i) => {
      const b = e.nearest[check(i)];
      return blendMask(b.x2 - b.x1, b.y2 - b.y1);
    },
    cached: source === 'memory' || source === 'disk',
    source,
    timings,
  };
}

/** Each frame's box, or the nearest frame's (the earlier on a tie) where it has none; needs at least one box. */
export function nearestBoxes(boxes: (FaceBox | undefined)[]): FaceBox[] {
  const n = boxes.length;
  const prevAt = new Array<number>(n);
  for (let i = 0, p = -1; i < n; i++) prevAt[i] = boxes[i] ? (p = i) : p;
  const out = new Array<FaceBox>(n);
  for (let i = n - 1, q = -1; i >= 0; i--) {
    if (boxes[i]) q = i;
    const p = prevAt[i];
    out[i] = boxes[p < 0 || (q >= 0 && q - i < i - p) ? q : p]!;
  }
  return out;
}
