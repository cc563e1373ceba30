import { promises as fs } from 'fs';
import { GatewayError } from '../common/errors';
import type { RenderRequest } from './render.types';

/** Helpers of the render pipeline (batch plan, frame mapping, request checks, output watch); render-pipeline.ts re-exports the public ones. */

export const MAX_FPS = 60;
export const DEFAULT_FPS = 25;

const OUTPUT_POLL_MS = 20;

/**
 * Calls `then(file)` once `file` exists, polling without holding up the caller: ffmpeg creates the
 * output some time after its first input frames, and a reader must not open a missing file. Gives
 * up silently once `isOver()` (the render ended first).
 */
export function whenFileExists(file: string, isOver: () => boolean, then: (file: string) => void): void {
  const tick = () => {
    if (isOver()) return;
    fs.stat(file).then(
      () => {
        if (!isOver()) then(file);
      },
      () => void setTimeout(tick, OUTPUT_POLL_MS).unref(),
    );
  };
  tick();
}

/**
 * Batch sizes covering `total` frames: all `batchSize`, or with `ramp` 1, 1, 2, 4 … up to
 * `batchSize` (a streamed render): ffmpeg writes the init segment (a stream's first bytes) once it
 * has frame 0, and frame 0's fragment once frame 1 arrives, so each of them is its own batch.
 */
export function batchPlan(total: number, batchSize: number, ramp: boolean): number[] {
  const sizes: number[] = [];
  for (let done = 0, k = 0; done < total; k++) {
    const next = ramp ? Math.min(batchSize, k < 2 ? 1 : 2 ** (k - 1)) : batchSize;
    const n = Math.min(next, total - done);
    sizes.push(n);
    done += n;
  }
  return sizes;
}

/** Source clip frame shown at output frame i: the clip plays at its own speed whatever the output fps. */
export function sourceFrameAt(i: number, fps: number, avatarFps: number | undefined): number {
  if (!avatarFps || avatarFps === fps) return i;
  // the epsilon keeps exact ratios (e.g. 30→25 fps) from landing one frame early through rounding
  return Math.floor((i * avatarFps) / fps + 1e-9);
}

export function evenWidthFor(width: number, height: number, outHeight: number): number {
  return Math.max(2, 2 * Math.round((width * outHeight) / height / 2));
}

export function validateRequest(req: RenderRequest): void {
  const bad = (m: string) => new GatewayError('VALIDATION_FAILED', m);
  if (req.fps !== undefined && !(Number.isFinite(req.fps) && req.fps > 0 && req.fps <= MAX_FPS))
    throw bad(`fps must be in (0, ${MAX_FPS}], got ${req.fps}`);
  if (req.batchSize !== undefined && !(Number.isInteger(req.batchSize) && req.batchSize >= 1 && req.batchSize <= 128)) {
    throw bad(`batch size must be an integer in 1..128, got ${req.batchSize}`);
  }
  if (
    req.outputHeight !== undefined &&
    !(Number.isInteger(req.outputHeight) && req.outputHeight >= 32 && req.outputHeight <= 4320 && req.outputHeight % 2 === 0)
  ) {
    throw bad(`output height must be an even integer in 32..4320, got ${req.outputHeight}`);
  }
  if (req.quality !== undefined && !(Number.isInteger(req.quality) && req.quality >= 0 && req.quality <= 51))
    throw bad(`quality must be an integer in 0..51, got ${req.quality}`);
}
