import { createHash } from 'crypto';
import { createReadStream, promises as fs } from 'fs';
import { GatewayError } from '../common/errors';
import type { FfmpegRunner } from '../media/ffmpeg-runner';
import { PinnedFormat, requirePinnedFormat } from '../media/demuxer-allowlist';
import type { SniffResult } from '../media/media-sniff';
import { sniffFile } from '../media/sniff-file';
import { cropToEven } from './face-crop';
import type { ImageAdapter } from './image.adapter';
import { avatarMediaOf, SniffedMedia } from './media-sniff';
import { decodeVideo } from './video-frames';

/** An avatar's bytes (image) or file (video), recognised by content, with their sha256. */
export type AvatarSource = { kind: SniffedMedia; bytes?: Buffer; path?: string; hash: string; pinned?: PinnedFormat };

/** Decoded avatar frames (RGB), one for an image. */
export interface DecodedAvatar {
  width: number;
  height: number;
  fps?: number;
  frames: Uint8Array[];
}

/** What decoding may take (AvatarServiceOptions, defaults applied). */
export interface AvatarDecodeLimits {
  maxImagePixels: number;
  maxVideoSeconds: number;
  maxVideoFrames: number;
  maxVideoBytes: number;
}

const UNSUPPORTED_AVATAR = 'the avatar must be a PNG, JPEG or WebP image or a video';

/** Avatar kind of a sniff result, with the pinned demuxer for a video (UNSUPPORTED_MEDIA otherwise). */
export function classifyAvatar(found: SniffResult | null): { kind: SniffedMedia; pinned?: PinnedFormat } {
  const kind = avatarMediaOf(found);
  if (kind === 'unknown') throw new GatewayError('UNSUPPORTED_MEDIA', UNSUPPORTED_AVATAR);
  return kind === 'video' ? { kind, pinned: requirePinnedFormat(found, 'the avatar video') } : { kind };
}

/** The source of an avatar file: a video stays on disk (hashed as a stream), an image is read. */
export async function avatarFileSource(file: string): Promise<AvatarSource> {
  const { kind, pinned } = classifyAvatar(await sniffAvatarFile(file));
  if (kind === 'video') return { kind, pinned, path: file, hash: await hashFile(file) };
  const bytes = await fs.readFile(file);
  return { kind, bytes, hash: sha256(bytes) };
}

/** Decodes a source's frames within the limits (VIDEO_TOO_LONG, VALIDATION_FAILED beyond them). */
export async function decodeAvatar(
  src: AvatarSource,
  runner: FfmpegRunner,
  images: ImageAdapter,
  limits: AvatarDecodeLimits,
  signal?: AbortSignal,
): Promise<DecodedAvatar> {
  if (src.kind === 'video') {
    return decodeVideo(
      runner,
      src.path!,
      {
        maxVideoSeconds: limits.maxVideoSeconds,
        maxVideoFrames: limits.maxVideoFrames,
        maxVideoBytes: limits.maxVideoBytes,
        maxPixels: limits.maxImagePixels,
      },
      src.pinned!,
      signal,
    );
  }
  const img = cropToEven(await images.decode(src.bytes!, limits.maxImagePixels));
  if (img.width < 32 || img.height < 32) {
    throw new GatewayError('VALIDATION_FAILED', `the image is ${img.width}x${img.height}; at least 32x32 is needed`);
  }
  return { width: img.width, height: img.height, frames: [img.data] };
}

export const sha256 = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

async function sniffAvatarFile(file: string): Promise<SniffResult | null> {
  const res = await sniffFile(file).catch((err: NodeJS.ErrnoException) => {
    throw new GatewayError(
      err.code === 'ENOENT' ? 'NOT_FOUND' : 'UNSUPPORTED_MEDIA',
      `cannot open the avatar file: ${err.code ?? 'error'}`,
    );
  });
  return res.found;
}

function hashFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}
