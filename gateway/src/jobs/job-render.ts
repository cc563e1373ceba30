import type { RenderRequest, RenderResult } from '../render/render.types';
import type { JobRecord } from './job.types';

/** The renderer's request for a job (the Redis worker uses it; JobsService builds the same inline). */
export function renderRequestOf(job: JobRecord, outPath: string): RenderRequest {
  const o = job.options;
  return {
    facePath: job.input.facePath,
    audioPath: job.input.audioPath,
    outPath,
    fps: o.fps,
    box: o.box,
    pads: o.pads,
    smooth: o.smooth,
    encoder: o.encoder,
    outputHeight: o.outputHeight,
    quality: o.quality,
    loop: o.loop,
    fragmented: o.stream === true,
  };
}

/** Copies a finished render's figures onto the job (progress 1, timings, result summary). */
export function applyResult(job: JobRecord, result: RenderResult): void {
  job.resultPath = result.outPath;
  job.progress = 1;
  job.framesDone = result.frames;
  job.framesTotal = result.frames;
  job.timings = { ...job.timings, ...result.timings };
  job.result = {
    width: result.width,
    height: result.height,
    fps: result.fps,
    frames: result.frames,
    audioSeconds: result.audioSeconds,
    encoder: result.encoder,
    backend: result.backend,
    ...(result.model ? { model: { ...result.model } } : {}),
    ...(result.silentFrames !== undefined ? { silentFrames: result.silentFrames } : {}),
  };
}
