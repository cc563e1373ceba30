import { GatewayError, toGatewayError } from '../common/errors';
import { redactPaths } from '../common/redact';
import { stderrTail } from '../media/ffmpeg-runner';
import type { RenderRequest, RenderResult } from '../render/render.types';
import type { JobInput, JobOptions, JobRecord } from './job.types';

/**
 * What both queue drivers (JobsService, the Redis worker) do the same way with a job: the record a
 * new job starts as, the renderer's request, the result's figures, the public error and the log
 * line of a failure. Pure, so "reads the same with either driver" holds by construction.
 */

/** The record of a job just admitted (status queued, no progress). */
export function newJobRecord(
  id: string,
  workDir: string,
  options: JobOptions,
  built: { input: JobInput; timings?: JobRecord['timings'] },
  extra: Pick<JobRecord, 'webhook'> = {},
  now = new Date(),
): JobRecord {
  return {
    id,
    status: 'queued',
    createdAt: now.toISOString(),
    progress: 0,
    framesDone: 0,
    framesTotal: 0,
    timings: { ...built.timings },
    options,
    input: built.input,
    workDir,
    ...extra,
  };
}

/** The renderer's request for a job, writing to `outPath`. */
export function renderRequestOf(job: JobRecord, outPath: string): RenderRequest {
  const o = job.options;
  return {
    facePath: job.input.facePath,
    audioPath: job.input.audioPath,
    outPath,
    fps: o.fps,
    box: o.box,
    pads: o.pads,
    faceIndex: o.faceIndex,
    facePoint: o.facePoint,
    smooth: o.smooth,
    encoder: o.encoder,
    outputHeight: o.outputHeight,
    quality: o.quality,
    loop: o.loop,
    silence: o.silence,
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

/** Why a render stopped: DEADLINE_EXCEEDED when the job's deadline aborted it, else the error's own code. */
export function renderFailure(err: unknown, pastDeadline: boolean, deadlineMs: number): GatewayError {
  if (!pastDeadline) return toGatewayError(err);
  const s = Math.round(deadlineMs / 1000);
  return new GatewayError('DEADLINE_EXCEEDED', `the job ran longer than its limit of ${s} s`, undefined, { cause: err });
}

/** The error a client sees on the job: INTERNAL messages (paths, library text) are logged, not published; paths redacted. */
export function publicJobError(err: GatewayError): NonNullable<JobRecord['error']> {
  return { code: err.code, message: err.code === 'INTERNAL' ? 'internal error (see the server log)' : redactPaths(err.message) };
}

/** stderr tail and other details of a failure, for the log line only. */
export function logDetails(err: GatewayError): string {
  const d = err.details;
  if (!d) return '';
  const stderr = typeof d.stderr === 'string' ? ` stderr: ${stderrTail(d.stderr, 5)}` : '';
  const rest = Object.entries(d).filter(([k]) => k !== 'stderr');
  return `${stderr}${rest.length ? ` ${JSON.stringify(Object.fromEntries(rest))}` : ''}`;
}

/** Logs a failed job the same way whichever driver ran it (INTERNAL with its stack; CANCELLED not at all). */
export function logJobFailure(log: { error(m: string, s?: string): void; warn(m: string): void }, id: string, gw: GatewayError): void {
  if (gw.code === 'INTERNAL') log.error(`job ${id} failed: ${gw.message}`, gw.stack);
  // clients get the code and a role-named message; paths and stderr go to the log with the job id
  else if (gw.code !== 'CANCELLED') log.warn(`job ${id} failed: ${gw.code}: ${gw.message}${logDetails(gw)}`);
}
