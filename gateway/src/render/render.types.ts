import type { BackendKind } from '../inference/inference-backend';
import type { ModelProvenance } from '../inference/model-provenance';

/** Wav2Lip box order, as in the original `--box` / `--pads` flags: top, bottom, left, right (pixels). */
export type Tblr = [top: number, bottom: number, left: number, right: number];

export type StageName = 'decode' | 'mel' | 'detect' | 'prepare' | 'infer' | 'composite' | 'encode' | 'total';
export type StageTimings = Partial<Record<StageName, number>>; // milliseconds
/** Milestones of a render's critical path (ms from its start): what a stream's first bytes wait for. */
export type MilestoneName = 'avatarReady' | 'audioReady' | 'encoderStarted' | 'firstBatch' | 'outputStarted';
export type RenderMilestones = Partial<Record<MilestoneName, number>>;
/**
 * Stage times plus `firstFrame` (ms from the render's start until its first frame went to the
 * encoder) and `marks` (RenderMilestones, the same clock).
 */
export type RenderTimings = StageTimings & { firstFrame?: number; marks?: RenderMilestones };

export interface RenderRequest {
  /** avatar image (PNG/JPEG/WebP) or short video file on local disk */
  facePath: string;
  /** audio (or video with an audio track) on local disk; text is turned into a file by the speech service first */
  audioPath: string;
  /** final MP4 path; written to a temp name beside it and renamed on success, removed on failure */
  outPath: string;
  fps?: number; // default: a video avatar's own frame rate, else 25
  batchSize?: number; // default from config
  /** manual face box (top, bottom, left, right); skips detection, pads and smoothing */
  box?: Tblr;
  /** pads in pixels around the detected box (top, bottom, left, right); default: 0.1 of the box height below */
  pads?: Tblr;
  /** which face when there are several: index in the avatar's faces (largest first) … */
  faceIndex?: number;
  /** … or a point [x, y] inside it; default: the largest */
  facePoint?: [number, number];
  /** smooth video boxes over 5 frames (default true) */
  smooth?: boolean;
  /** 'auto' uses the encoder probed at start */
  encoder?: 'auto' | 'libx264' | 'h264_nvenc';
  /** scale the output to this height (even), keeping the aspect ratio; default: the avatar's size */
  outputHeight?: number;
  /** libx264 CRF / nvenc CQ (default 20) */
  quality?: number;
  /** video avatars: 'loop' (default) or 'pingpong' to cover the audio */
  loop?: 'loop' | 'pingpong';
  /** 'keep' (default): frames whose audio window is silent show the source mouth; 'model': paste every frame */
  silence?: 'keep' | 'model';
  /** write a fragmented MP4 progressively (for streaming while rendering) instead of a +faststart MP4 */
  fragmented?: boolean;
}

export interface RenderProgress {
  framesDone: number;
  framesTotal: number;
  /** 0..1 */
  progress: number;
}

export interface RenderResult {
  outPath: string;
  frames: number;
  fps: number;
  width: number;
  height: number;
  audioSeconds: number;
  encoder: string;
  backend: BackendKind;
  /** true when the avatar came from the cache (no detection ran) */
  avatarCached: boolean;
  batchSizes: number[];
  /** frames shown with the source mouth because their audio window was silent */
  silentFrames?: number;
  timings: RenderTimings;
  /** the model that drew the mouths (name, origin, licence, precision) */
  model?: ModelProvenance;
}

export interface RenderHooks {
  signal?: AbortSignal;
  onProgress?: (p: RenderProgress) => void;
  /** called once the output file exists and (for fragmented output) its first bytes are written */
  onOutputStarted?: (path: string) => void;
}

/** Optional observer the API's metrics service plugs into the pipeline (Prometheus lives in health/). */
export interface PipelineObserver {
  batchDone?(size: number, ms: number, backend: BackendKind): void;
  inFlightChanged?(delta: 1 | -1): void;
  stageDone?(stage: StageName, ms: number): void;
  /** ms from the render's start to its first frame written to the encoder */
  firstFrame?(ms: number, streamed: boolean): void;
}

/**
 * The one render pipeline both front doors use (CLI and API). Implemented by
 * `RenderPipeline` in render-pipeline.ts; built with its dependencies by RenderModule
 * (render.module.ts), which both the HTTP app and the CLI (createCoreServices) use.
 */
export interface Renderer {
  render(req: RenderRequest, hooks?: RenderHooks): Promise<RenderResult>;
}
