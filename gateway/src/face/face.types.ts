import type { Tblr } from '../render/render.types';

/** A face rectangle in frame pixels; x2/y2 are exclusive (the crop is frame[y1:y2, x1:x2]). */
export interface FaceBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** One detector hit: the raw (unpadded, fractional) face rectangle and its confidence. */
export interface DetectedFace {
  box: FaceBox;
  score: number;
}

export interface Point {
  x: number;
  y: number;
}

/** Eye centres, nose tip and mouth corners ("left" = image left), in frame pixels. */
export interface FacePoints5 {
  leftEye: Point;
  rightEye: Point;
  nose: Point;
  mouthLeft: Point;
  mouthRight: Point;
}

/** How a box was made: landmarks (the documented geometry), a second SSD pass, the first SSD box, or by hand. */
export type BoxMethod = 'landmarks' | 'second-pass' | 'detector' | 'manual';

/** Which face to use when there are several: by index in `faces` (largest first) or by a point inside it. */
export interface FaceSelection {
  faceIndex?: number;
  /** [x, y] in frame pixels of the first frame with faces */
  facePoint?: [number, number];
}

/** What an avatar reports about its face: every face found, the one used and how its box was made. */
export interface FaceReport {
  /** every face on the first frame that has one, largest first (raw detector boxes) */
  faces: DetectedFace[];
  /** index into faces of the face used (-1 for a manual box) */
  selected: number;
  /** the box of the first frame with the face, before pads */
  box?: FaceBox;
  method: BoxMethod;
  /** the landmarks the box came from (method 'landmarks' only) */
  landmarks?: FacePoints5;
}

/** Side of the model's square face input (Wav2Lip img_size). */
export const CROP_SIZE = 96;

export interface AvatarTimings {
  /** ms spent decoding the image or video frames (sharp / ffmpeg) */
  decode: number;
  /** ms spent in face detection (0 when the boxes came from a cache or a manual box) */
  detect: number;
  /** wall ms of the whole prepare() call (hash, cache look-up, decode, detect, boxes) */
  prepare: number;
}

export interface PreparedAvatar {
  /** content + options hash; also the disk-cache file name */
  readonly key: string;
  /** even frame size (an odd last row/column is cropped away) */
  readonly width: number;
  readonly height: number;
  /** 1 for images */
  readonly frameCount: number;
  readonly isVideo: boolean;
  /** the clip's frame rate (videos only) */
  readonly fps?: number;
  /** RGB24, width*height*3; i in [0, frameCount) (map with avatarFrameIndex first) */
  frame(i: number): Uint8Array;
  /** the padded/smoothed (or manual) box for frame i (for a frame without the face: the nearest frame's box) */
  box(i: number): FaceBox;
  /** false for video frames where the chosen face was not found: render them unchanged (no paste) */
  hasFace(i: number): boolean;
  /** the faces found, the one chosen, its box and landmarks */
  readonly face: FaceReport;
  /** 96*96*3 RGB bilinear crop of frame(i) inside box(i): the model's `face` input */
  crop(i: number): Uint8Array;
  /** blend weights (x2-x1)*(y2-y1) in [0,1] for box(i), row-major (shared per box size) */
  mask(i: number): Float32Array;
  /** true when the avatar came from a cache (memory, or boxes from disk): no detection ran for this call */
  readonly cached: boolean;
  /** where the boxes came from */
  readonly source: 'detected' | 'manual' | 'memory' | 'disk';
  readonly timings: AvatarTimings;
}

export interface PrepareOptions {
  /** manual box (top, bottom, left, right): skips detection, pads and smoothing */
  box?: Tblr;
  /** pads in pixels (top, bottom, left, right) around detected boxes; default: 0.1 of the box height below (face-geometry.ts) */
  pads?: Tblr;
  /** which face when there are several (default: the largest) */
  faceIndex?: number;
  facePoint?: [number, number];
  /** smooth video boxes over 5 frames; default true */
  smooth?: boolean;
  signal?: AbortSignal;
}
