import type { ErrorCode } from '../common/errors';
import type { ModelProvenance } from '../inference/model-provenance';
import type { RenderRequest, RenderTimings } from '../render/render.types';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export const TERMINAL_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled'];
export const isTerminal = (s: JobStatus): boolean => TERMINAL_STATUSES.includes(s);

/** Render options a client may set on a job: a subset of RenderRequest (documented there), plus the stream flag. */
export type JobOptions = Pick<
  RenderRequest,
  'fps' | 'outputHeight' | 'box' | 'pads' | 'faceIndex' | 'facePoint' | 'smooth' | 'encoder' | 'quality' | 'loop' | 'silence'
> & {
  /** render a fragmented MP4 so GET /stream can deliver bytes while the job runs */
  stream?: boolean;
};

/** Where a job's inputs came from; paths are server-chosen, inside the job's directory or the avatar store. */
export interface JobInput {
  facePath: string;
  audioPath: string;
  avatarId?: string;
  /** the audio's length from the probe at submission (scales the job's deadline) */
  audioSeconds?: number | null;
}

/** One delivery attempt of a job's webhook, as shown on the job. */
export interface WebhookAttempt {
  attempt: number;
  at: string;
  ms: number;
  /** the receiver's HTTP status, when it answered */
  status?: number;
  /** why there was no usable answer (timed out, refused the connection, a forbidden address…) */
  error?: string;
}

/** A job's webhook: where it goes and how delivery went (webhooks/webhook-dispatcher.ts). */
export interface JobWebhook {
  url: string;
  /** pending until the job is final and the receiver answered 2xx (delivered) or attempts ran out (failed) */
  state: 'pending' | 'delivered' | 'failed';
  attempts: WebhookAttempt[];
  nextAttemptAt?: string;
  /** the signed body, fixed when the job became final so every retry sends the same message */
  payload?: string;
}

export interface JobRecord {
  id: string;
  status: JobStatus;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  progress: number;
  framesDone: number;
  framesTotal: number;
  timings: RenderTimings & { queue?: number; speech?: number };
  error?: { code: ErrorCode; message: string };
  options: JobOptions;
  input: JobInput;
  /** the job's private directory (inputs, temp files, result) */
  workDir: string;
  /** renders started so far (a crash-interrupted job runs again from the start, up to MAX_JOB_ATTEMPTS) */
  attempts?: number;
  /** true once the renderer has created the output file (fragmented output grows while running) */
  outputStarted?: boolean;
  /** set once the render succeeded */
  resultPath?: string;
  webhook?: JobWebhook;
  /** where the current run writes (redis driver: one file per run, renamed to the result when it succeeds) */
  renderPath?: string;
  /** what the renderer reported */
  result?: {
    width: number;
    height: number;
    fps: number;
    frames: number;
    audioSeconds: number;
    encoder: string;
    backend: string;
    model?: ModelProvenance;
    silentFrames?: number;
  };
}

/** One journal line: a full snapshot of a job, or its removal. */
export type JournalEntry = { op: 'put'; job: JobRecord } | { op: 'del'; id: string };
