import type { FaceReport } from '../face/face.types';
import type { ModelProvenance } from '../inference/model-provenance';
import type { PinnedFormat } from '../media/demuxer-allowlist';
import type { VideoEncoder } from './encoder-args';
import type { Tblr } from './render.types';
import type { SilenceOptions } from './silence';

/** The render pipeline's ports (what it needs from audio, avatars) and options; render-pipeline.ts re-exports them. */

/** What the pipeline keeps of an audio probe: the demuxer the encoder must read the file with, and what load() needs back. */
export interface ProbedAudio {
  pinned: PinnedFormat;
}

/** What the pipeline needs from the audio front end (gateway/src/audio). */
export interface AudioPort {
  /** the demuxer the file's content calls for (a sniff: one small read), undefined when unsure; the probe decides */
  pinned?(path: string): Promise<PinnedFormat | undefined>;
  /** probes (refusing bad input early) */
  probe(path: string, signal?: AbortSignal): Promise<ProbedAudio>;
  /** decodes a probed file to 16 kHz mono float32 */
  load(path: string, probe: ProbedAudio, signal?: AbortSignal): Promise<{ pcm: Float32Array; durationSec: number }>;
  /** [80, T] row-major */
  mel(pcm: Float32Array): { data: Float32Array; frames: number };
  frameCount(melFrames: number, fps: number): number;
  /** writes windows of frames [from, to) into out (length (to-from)*1280) */
  fillWindows(mel: { data: Float32Array; frames: number }, from: number, to: number, fps: number, out: Float32Array): void;
}

export interface FaceBoxLike {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** What the pipeline needs from a prepared avatar (gateway/src/face). */
export interface AvatarView {
  width: number;
  height: number;
  frameCount: number;
  cached: boolean;
  /** the clip's frame rate (videos only) */
  fps?: number;
  timings: { decode: number; detect: number; prepare: number };
  frame(i: number): Uint8Array;
  box(i: number): FaceBoxLike;
  /** false where the chosen face is not in frame i: the frame is written unchanged (absent = always true) */
  hasFace?(i: number): boolean;
  /** the faces found and the one used (reported in avatar metadata) */
  readonly face?: FaceReport;
  crop(i: number): Uint8Array;
  mask(i: number): Float32Array;
}

export interface AvatarPort {
  prepare(
    facePath: string,
    o: { box?: Tblr; pads?: Tblr; smooth?: boolean; faceIndex?: number; facePoint?: [number, number]; signal?: AbortSignal },
  ): Promise<AvatarView>;
  frameIndex(i: number, frameCount: number, mode: 'loop' | 'pingpong'): number;
}

export interface PipelineOptions {
  defaultBatchSize: number;
  /** encoder chosen at start by chooseEncoder() */
  encoder: VideoEncoder;
  /** batches in inference at once (1 = no overlap); 2 keeps the model busy while we composite */
  inferDepth?: number;
  inferDeadlineMs?: number;
  /** the served model: tagged into every MP4 and reported with the result */
  model?: ModelProvenance;
  /** silence detection (threshold from SILENCE_THRESHOLD_DB) */
  silence?: SilenceOptions;
}
