/**
 * Media type from the first bytes of the content (never the file name). Only the formats the
 * gateway accepts as avatars are recognised as images; other images (GIF, AVIF, HEIC, BMP, …)
 * and anything unknown come back as 'unknown' (→ UNSUPPORTED_MEDIA).
 */
export type SniffedMedia = 'png' | 'jpeg' | 'webp' | 'video' | 'unknown';

/** Bytes needed by sniffMedia. */
export const SNIFF_BYTES = 400;

const ascii = (b: Uint8Array, at: number, len: number): string =>
  String.fromCharCode(...b.subarray(at, Math.min(b.length, at + len)));

// ISO-BMFF brands that are still images, not movies
const IMAGE_BRANDS = new Set(['avif', 'avis', 'heic', 'heix', 'hevc', 'hevx', 'mif1', 'msf1']);

export function sniffMedia(b: Uint8Array): SniffedMedia {
  if (b.length >= 8 && b[0] === 0x89 && ascii(b, 1, 3) === 'PNG' && b[4] === 0x0d && b[5] === 0x0a) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return 'webp';
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'AVI ') return 'video';
  if (b.length >= 12 && ascii(b, 4, 4) === 'ftyp') return IMAGE_BRANDS.has(ascii(b, 8, 4)) ? 'unknown' : 'video';
  if (b.length >= 4 && b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) return 'video'; // Matroska/WebM
  if (b.length >= 3 && ascii(b, 0, 3) === 'FLV') return 'video';
  if (b.length >= 4 && b[0] === 0 && b[1] === 0 && b[2] === 1 && b[3] === 0xba) return 'video'; // MPEG-PS
  if (b.length >= 189 && b[0] === 0x47 && b[188] === 0x47) return 'video'; // MPEG-TS packets
  if (b.length >= 4 && ascii(b, 0, 4) === 'OggS') return 'video'; // may be audio only: the probe decides
  return 'unknown';
}
