import { evenWidthFor } from '../render/render-pipeline';
import { assertEvenDims, streamingMuxArgs, videoCodecArgs, VideoEncoder } from '../render/encoder-args';
import { metadataArgs } from '../render/output-metadata';

export interface SessionEncodeSpec {
  width: number;
  height: number;
  fps: number;
  encoder: VideoEncoder;
  outputHeight?: number;
  /** CRF / CQ, default 23 (a live stream trades a little quality for bitrate) */
  quality?: number;
  /** container tags (output-metadata.ts: synthetic mark, model, licence), written in the init segment */
  metadata?: Record<string, string>;
}

/** H.264 levels by (max macroblocks per frame, max macroblocks per second), ITU-T H.264 Table A-1. */
const LEVELS: [idc: number, frameMbs: number, mbps: number][] = [
  [30, 1620, 40_500],
  [31, 3600, 108_000],
  [32, 5120, 216_000],
  [40, 8192, 245_760],
  [42, 8704, 522_240],
  [50, 22_080, 589_824],
  [51, 36_864, 983_040],
];

/** The output frame size of a session (scaled to outputHeight, even width). */
export function sessionOutputSize(s: { width: number; height: number; outputHeight?: number }): { width: number; height: number } {
  return s.outputHeight
    ? { width: evenWidthFor(s.width, s.height, s.outputHeight), height: s.outputHeight }
    : { width: s.width, height: s.height };
}

/** The smallest H.264 level that carries this size and rate. */
export function h264Level(width: number, height: number, fps: number): number {
  const mbs = Math.ceil(width / 16) * Math.ceil(height / 16);
  const level = LEVELS.find(([, f, r]) => mbs <= f && mbs * fps <= r);
  if (!level) throw new RangeError(`${width}×${height} at ${fps} fps is beyond H.264 level 5.1`);
  return level[0];
}

/**
 * The MSE type of a session's stream: Constrained Baseline (profile_idc 0x42, constraint_set0+1
 * flags 0xC0, as x264's baseline profile writes them in avcC) at the pinned level, plus AAC-LC.
 */
export function sessionMime(level: number): string {
  return `video/mp4; codecs="avc1.42C0${level.toString(16).toUpperCase().padStart(2, '0')}, mp4a.40.2"`;
}

/**
 * One long-running ffmpeg per live session: raw RGB frames on stdin (pipe:0) and the session's PCM
 * on a second pipe (fd 3), muxed into one fragmented MP4 on stdout. Raw inputs are not probed
 * (-probesize 32 -analyzeduration 0): probing a live pipe waits for data (seen ~1.9 s here).
 */
export function buildSessionEncodeArgs(s: SessionEncodeSpec): string[] {
  assertEvenDims(s.width, s.height);
  if (!(s.fps > 0 && s.fps <= 60)) throw new RangeError(`fps must be in (0, 60], got ${s.fps}`);
  const out = sessionOutputSize(s);
  const level = h264Level(out.width, out.height, s.fps);
  const noProbe = ['-probesize', '32', '-analyzeduration', '0'];
  const args = ['-hide_banner', '-loglevel', 'error', '-nostdin'];
  args.push('-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${s.width}x${s.height}`, '-framerate', String(s.fps), ...noProbe, '-i', 'pipe:0');
  args.push('-f', 's16le', '-ar', '16000', '-ac', '1', ...noProbe, '-i', 'pipe:3');
  args.push('-map', '0:v:0', '-map', '1:a:0');
  if (s.outputHeight) args.push('-vf', `scale=-2:${s.outputHeight}:flags=bicubic`);
  args.push(...videoCodecArgs(s.encoder, String(s.quality ?? 23), { lowLatency: true }));
  // Baseline at a pinned level, so the codec string announced in `ready` is exact.
  args.push(
    '-profile:v',
    'baseline',
    '-level',
    (level / 10).toFixed(1),
    '-pix_fmt',
    'yuv420p',
    '-g',
    String(Math.max(1, Math.round(s.fps))),
  );
  args.push('-c:a', 'aac', '-b:a', '96k', '-ar', '48000');
  args.push(...metadataArgs(s.metadata));
  args.push(...streamingMuxArgs(s.fps, s.metadata ? '+use_metadata_tags' : ''), '-f', 'mp4', 'pipe:1');
  return args;
}
