import { GatewayError } from '../common/errors';
import { assertProbedFormat, PinnedFormat, pinnedInputArgs, pinnedProbeInput } from '../media/demuxer-allowlist';
import type { FfmpegRunner } from '../media/ffmpeg-runner';

/** What the avatar needs to know about a video before decoding it. */
export interface VideoInfo {
  /** decoded size after auto-rotation, before the even crop */
  width: number;
  height: number;
  fps: number;
  /** seconds, when the container says */
  duration?: number;
}

export interface VideoLimits {
  maxVideoSeconds: number;
  maxVideoFrames: number;
  /** bound on the decoded RGB bytes one avatar may hold */
  maxVideoBytes: number;
  maxPixels: number;
}

export interface DecodedVideo {
  width: number;
  height: number;
  fps: number;
  /** views into one buffer, RGB24 width*height*3 each */
  frames: Uint8Array[];
}

const MAX_FPS = 60;

/** ffprobe with the demuxer pinned to the sniffed format (media/demuxer-allowlist.ts). */
export function probeArgs(path: string, pinned: PinnedFormat): string[] {
  return [
    '-v',
    'error',
    '-print_format',
    'json',
    '-show_streams',
    '-show_format',
    '-select_streams',
    'v:0',
    ...pinnedProbeInput(pinned, path),
  ];
}

/** The container's format_name from ffprobe's JSON (checked against the pinned demuxer). */
export function probedFormatName(json: string): string | undefined {
  const name = (JSON.parse(json) as { format?: { format_name?: unknown } }).format?.format_name;
  return typeof name === 'string' ? name : undefined;
}

function parseRate(r: unknown): number | undefined {
  if (typeof r !== 'string') return undefined;
  const [n, d] = r.split('/').map(Number);
  const v = d ? n / d : n;
  return Number.isFinite(v) && v > 0 ? v : undefined;
}

/** ffprobe JSON → VideoInfo, or undefined when there is no video stream. */
/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment -- ffprobe's JSON is untyped; each field used is checked or converted */
export function parseVideoProbe(json: string): VideoInfo | undefined {
  const data = JSON.parse(json) as { streams?: Record<string, any>[]; format?: Record<string, any> };
  const s = data.streams?.find((x) => x.codec_type === 'video');
  if (!s || !s.width || !s.height) return undefined;
  const fps = parseRate(s.avg_frame_rate) ?? parseRate(s.r_frame_rate) ?? 25;
  const duration = Number(s.duration ?? data.format?.duration);
  const rotation = Number(
    (s.side_data_list as Record<string, any>[] | undefined)?.find((d) => d.rotation !== undefined)?.rotation ?? s.tags?.rotate ?? 0,
  );
  // ffmpeg auto-rotates while decoding, so a quarter turn swaps the decoded size
  const quarter = Math.abs(Math.round(rotation / 90)) % 2 === 1;
  return {
    width: quarter ? s.height : s.width,
    height: quarter ? s.width : s.height,
    fps: Math.min(MAX_FPS, fps),
    duration: Number.isFinite(duration) && duration > 0 ? duration : undefined,
  };
}
/* eslint-enable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment */

/** Raw RGB24 frames at a constant rate, cropped to even size (top-left anchored), at most maxFrames+1 of them. */
export function decodeArgs(path: string, info: VideoInfo, maxFrames: number, pinned: PinnedFormat): string[] {
  return [
    '-v',
    'error',
    '-nostdin',
    ...pinnedInputArgs(pinned, path),
    '-map',
    '0:v:0',
    '-an',
    '-sn',
    '-vf',
    'crop=trunc(iw/2)*2:trunc(ih/2)*2:0:0',
    '-fps_mode',
    'cfr',
    '-r',
    String(info.fps),
    '-frames:v',
    String(maxFrames + 1),
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    'pipe:1',
  ];
}

/**
 * Probes a video avatar with its pinned demuxer and enforces the caps a probe can see (format, size,
 * duration). Job submission calls it too, so a bad face video is refused before the 202.
 */
export async function probeVideo(
  runner: FfmpegRunner,
  path: string,
  limits: Pick<VideoLimits, 'maxVideoSeconds' | 'maxPixels'>,
  pinned: PinnedFormat,
  signal?: AbortSignal,
): Promise<VideoInfo> {
  let info: VideoInfo | undefined;
  let formatName: string | undefined;
  try {
    const probe = await runner.probe(probeArgs(path, pinned), { signal, timeoutMs: 30_000, maxStdoutBytes: 1 << 20 });
    const json = probe.stdout.toString('utf8');
    info = parseVideoProbe(json);
    formatName = probedFormatName(json);
  } catch (err) {
    if (err instanceof GatewayError && (err.code === 'CANCELLED' || err.code === 'DEADLINE_EXCEEDED')) throw err;
    throw new GatewayError('UNSUPPORTED_MEDIA', 'the file is neither a readable image nor a readable video', undefined, { cause: err });
  }
  assertProbedFormat(pinned, formatName, 'the video');
  if (!info) throw new GatewayError('UNSUPPORTED_MEDIA', 'the file has no video stream');
  if (info.width * info.height > limits.maxPixels) {
    throw new GatewayError('IMAGE_TOO_LARGE', `video frames have ${info.width}x${info.height} pixels; the limit is ${limits.maxPixels}`);
  }
  if (info.duration !== undefined && info.duration > limits.maxVideoSeconds + 0.05) {
    throw new GatewayError('VIDEO_TOO_LONG', `the video lasts ${info.duration.toFixed(1)} s; the limit is ${limits.maxVideoSeconds} s`);
  }
  return info;
}

/** Decodes a short video avatar through the one ffmpeg runner, enforcing the caps before and after. */
export async function decodeVideo(
  runner: FfmpegRunner,
  path: string,
  limits: VideoLimits,
  pinned: PinnedFormat,
  signal?: AbortSignal,
): Promise<DecodedVideo> {
  const info = await probeVideo(runner, path, limits, pinned, signal);
  const width = info.width & ~1;
  const height = info.height & ~1;
  const frameBytes = width * height * 3;
  if (frameBytes === 0) throw new GatewayError('UNSUPPORTED_MEDIA', 'the video frames are empty');
  const maxFrames = Math.max(1, Math.min(limits.maxVideoFrames, Math.floor(limits.maxVideoBytes / frameBytes)));
  // ffmpeg writes into one buffer sized from the probe (frames are views into it, never concatenated
  // chunks plus a copy); it only grows when the container under-reports its duration
  const sink = new GrowableBuffer(initialFrames(info, maxFrames) * frameBytes, (maxFrames + 1) * frameBytes);
  try {
    await runner.stream(decodeArgs(path, info, maxFrames, pinned), (chunk) => void sink.append(chunk), { signal, timeoutMs: 120_000 });
  } catch (err) {
    if (err instanceof GatewayError && (err.code === 'CANCELLED' || err.code === 'DEADLINE_EXCEEDED')) throw err;
    throw new GatewayError('UNSUPPORTED_MEDIA', 'the video cannot be decoded', undefined, { cause: err });
  }
  const out = sink.bytes();
  const count = Math.floor(out.length / frameBytes);
  if (count > maxFrames || sink.overflowed) {
    throw new GatewayError(
      'VIDEO_TOO_LONG',
      `the video has more than ${maxFrames} frames at ${width}x${height} (limits: ${limits.maxVideoFrames} frames, ${limits.maxVideoBytes} bytes)`,
    );
  }
  if (count === 0) throw new GatewayError('UNSUPPORTED_MEDIA', 'the video has no decodable frames');
  const frames: Uint8Array[] = [];
  for (let i = 0; i < count; i++) frames.push(new Uint8Array(out.buffer, out.byteOffset + i * frameBytes, frameBytes));
  return { width, height, fps: info.fps, frames };
}

/** Frames to allocate up front: the probed duration's worth (+2 for rounding), else the cap. */
export function initialFrames(info: VideoInfo, maxFrames: number): number {
  if (info.duration === undefined) return maxFrames + 1;
  return Math.max(1, Math.min(maxFrames + 1, Math.ceil(info.duration * info.fps) + 2));
}

/** An append-only byte buffer with a hard cap (ffmpeg's -frames:v keeps the output under it). */
export class GrowableBuffer {
  private buf: Buffer;
  private used = 0;
  /** set once a chunk did not fit under the cap */
  overflowed = false;

  constructor(
    initialBytes: number,
    private readonly maxBytes: number,
  ) {
    this.buf = Buffer.allocUnsafe(Math.min(initialBytes, maxBytes));
  }

  /** false (and the chunk dropped) past the cap: it runs in a stream listener, where a throw would crash the process */
  append(chunk: Buffer): boolean {
    const need = this.used + chunk.length;
    if (need > this.buf.length) {
      if (need > this.maxBytes) {
        this.overflowed = true;
        return false;
      }
      const grown = Buffer.allocUnsafe(Math.min(this.maxBytes, Math.max(need, this.buf.length * 2)));
      this.buf.copy(grown, 0, 0, this.used);
      this.buf = grown;
    }
    chunk.copy(this.buf, this.used);
    this.used = need;
    return true;
  }

  /** the bytes written so far (a view, no copy) */
  bytes(): Buffer {
    return this.buf.subarray(0, this.used);
  }

  get capacity(): number {
    return this.buf.length;
  }
}
