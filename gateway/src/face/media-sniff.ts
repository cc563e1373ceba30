import { AVATAR_IMAGE_FORMATS, SniffResult, sniffMedia } from '../media/media-sniff';

export { SNIFF_BYTES } from '../media/media-sniff';

/**
 * What the avatar pipeline makes of a file's first bytes (media/media-sniff.ts does the sniffing):
 * PNG, JPEG and WebP images, or a video; other images (GIF, AVIF, HEIC, …), audio and anything
 * unknown come back as 'unknown' (→ UNSUPPORTED_MEDIA).
 */
export type SniffedMedia = 'png' | 'jpeg' | 'webp' | 'video' | 'unknown';

export function sniffAvatarMedia(head: Uint8Array): SniffedMedia {
  return avatarMediaOf(sniffMedia(head));
}

/** The avatar pipeline's view of a sniff result (sniffFile/sniffBuffer look past ID3 tags). */
export function avatarMediaOf(found: SniffResult | null): SniffedMedia {
  if (!found) return 'unknown';
  if (found.kind === 'video') return 'video';
  if (found.kind === 'image' && AVATAR_IMAGE_FORMATS.includes(found.format))
    return found.format === 'jpg' ? 'jpeg' : (found.format as 'png' | 'webp');
  return 'unknown';
}
