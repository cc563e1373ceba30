/**
 * Pure builders for the encoder's ffmpeg arguments. One process per job: raw RGB frames on stdin,
 * the original audio muxed from its file, H.264 yuv420p in MP4. No intermediate files, no second encode.
 */
import { PinnedFormat, pinnedInputArgs } from '../media/demuxer-allowlist';
import { metadataArgs } from './output-metadata';

export type VideoEncoder = 'libx264' | 'h264_nvenc';

export interface EncodeSpec {
  width: number; // even
  height: number; // even
  fps: number;
  audioPath: string;
  /** the audio's pinned demuxer (from the audio probe): ffmpeg never guesses the format of user media */
  audioFormat: PinnedFormat;
  outPath: string;
  encoder: VideoEncoder;
  /** CRF for libx264, CQ for NVENC (lower = better); default 20 */
  quality?: number;
  /** libx264 preset; default 'veryfast' (the best speed/size trade-off for talking heads on CPU) */
  preset?: string;
  /** scale to this even height, width follows the aspect ratio (rounded to even) */
  outputHeight?: number;
  /** progressive fragmented MP4 (readable while it is written) instead of +faststart */
  fragmented?: boolean;
  /** CPU threads for libx264; default: ffmpeg's choice */
  threads?: number;
  /** container metadata tags (output-metadata.ts: model, licence, synthetic mark) */
  metadata?: Record<string, string>;
}

export function assertEvenDims(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 2 || height < 2 || width % 2 || height % 2) {
    throw new RangeError(`frame size must be even and ≥ 2, got ${width}×${height}`);
  }
}

export function buildEncodeArgs(s: EncodeSpec): string[] {
  assertEvenDims(s.width, s.height);
  if (!(s.fps > 0 && s.fps <= 120)) throw new RangeError(`fps must be in (0, 120], got ${s.fps}`);
  const q = String(s.quality ?? 20);
  const args = ['-hide_banner', '-loglevel', 'error', '-y'];
  // Input 0: raw frames on stdin. Input 1: the audio as the user gave it (no re-decode to wav first).
  args.push('-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${s.width}x${s.height}`, '-framerate', String(s.fps), '-i', 'pipe:0');
  args.push(...pinnedInputArgs(s.audioFormat, s.audioPath));
  args.push('-map', '0:v:0', '-map', '1:a:0');
  if (s.outputHeight) {
    if (s.outputHeight % 2 || s.outputHeight < 2) throw new RangeError(`output height must be even, got ${s.outputHeight}`);
    // -2 keeps the aspect ratio with an even width, as yuv420p requires.
    args.push('-vf', `scale=-2:${s.outputHeight}:flags=bicubic`);
  }
  args.push(...videoCodecArgs(s.encoder, q, { preset: s.preset, threads: s.threads, lowLatency: s.fragmented }));
  args.push('-pix_fmt', 'yuv420p', '-r', String(s.fps));
  if (s.fragmented) {
    // A keyframe every second so a reader joining late soon finds a decodable start.
    args.push('-g', String(Math.max(1, Math.round(s.fps))));
  }
  args.push('-c:a', 'aac', '-b:a', '128k', '-ar', '48000');
  args.push(...metadataArgs(s.metadata));
  // use_metadata_tags: the MP4 muxer writes keys outside its fixed list only with it
  const tagFlag = s.metadata ? '+use_metadata_tags' : '';
  if (s.fragmented) args.push(...streamingMuxArgs(s.fps, tagFlag));
  else args.push('-movflags', `+faststart${tagFlag}`);
  args.push('-f', 'mp4', s.outPath);
  return args;
}

/**
 * H.264 encoder options. `lowLatency` (streams): no B-frames and no lookahead, so each frame
 * leaves the encoder as soon as it goes in (libx264 -tune zerolatency; NVENC's low-latency tune).
 */
export function videoCodecArgs(
  encoder: VideoEncoder,
  quality: string,
  o: { preset?: string; threads?: number; lowLatency?: boolean } = {},
): string[] {
  if (encoder === 'h264_nvenc') {
    const tune = o.lowLatency ? ['-tune', 'll', '-bf', '0', '-zerolatency', '1'] : ['-tune', 'hq'];
    return ['-c:v', 'h264_nvenc', '-preset', 'p4', ...tune, '-rc', 'vbr', '-cq', quality, '-b:v', '0'];
  }
  const args = ['-c:v', 'libx264', '-preset', o.preset ?? 'veryfast'];
  if (o.lowLatency) args.push('-tune', 'zerolatency', '-bf', '0');
  args.push('-crf', quality);
  if (o.threads) args.push('-threads', String(o.threads));
  return args;
}

/**
 * Fragmented MP4 that reaches the reader as it is made: without -flush_packets ffmpeg holds
 * everything but `ftyp` in its 32 KiB output buffer; -frag_duration of one frame period cuts a
 * fragment per frame (≈200 B of moof each), so a frame is readable as soon as the next one is encoded.
 * default_base_moof makes the fragments MSE-friendly (Chromium needs it).
 */
export function streamingMuxArgs(fps: number, extraMovflags = ''): string[] {
  const frameUs = Math.max(1, Math.floor(1_000_000 / fps));
  return [
    '-flush_packets',
    '1',
    '-frag_duration',
    String(frameUs),
    '-movflags',
    `frag_keyframe+empty_moov+default_base_moof${extraMovflags}`,
  ];
}

/** Arguments that encode one black frame with `encoder` and discard it: a real probe, not a list of compiled encoders. */
export function buildEncoderProbeArgs(encoder: VideoEncoder): string[] {
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-nostdin',
    '-f',
    'lavfi',
    '-i',
    'color=c=black:s=256x256:r=25:d=0.04',
    '-frames:v',
    '1',
    '-c:v',
    encoder,
    '-pix_fmt',
    'yuv420p',
    '-f',
    'null',
    '-',
  ];
}
