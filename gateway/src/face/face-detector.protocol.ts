import type { DetectedFace } from './face.types';

/** Settings the face worker gets once, as workerData. */
export interface FaceWorkerSettings {
  minConfidence: number;
  maxResults: number;
}

/** Messages between FaceApiDetector (parent) and the face worker thread. Frames travel as transferred ArrayBuffers. */
export type ToFaceWorker =
  /** packed RGB24, width*height*3 bytes */
  | { type: 'detect'; id: number; rgb: ArrayBuffer; width: number; height: number }
  /** 68 landmarks of the face that fills this image (a region the parent cut around a detection) */
  | { type: 'landmarks'; id: number; rgb: ArrayBuffer; width: number; height: number }
  /** finish the request that is running, drop the queued ones, then exit */
  | { type: 'close' };

export type FromFaceWorker =
  /** tfjs, the wasm backend and the weights are loaded; loadMs is the worker's own start-up time */
  | { type: 'ready'; loadMs: number }
  | { type: 'load-failed'; message: string }
  /** ms: time spent in detection for this frame, inside the worker */
  | { type: 'done'; id: number; faces: DetectedFace[]; ms: number }
  /** points: x0, y0, x1, y1, … (68 pairs) in the image's pixels */
  | { type: 'landmarks-done'; id: number; points: number[]; ms: number }
  | { type: 'failed'; id: number; message: string };
