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
  /** the padded/smoothed (or manual) box for frame i */
  box(i: number): FaceBox;
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
  /** pads (top, bottom, left, right) around detected boxes; default [0, 10, 0, 0] */
  pads?: Tblr;
  /** smooth video boxes over 5 frames; default true */
  smooth?: boolean;
  signal?: AbortSignal;
}
