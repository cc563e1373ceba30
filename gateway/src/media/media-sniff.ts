/**
 * The one content sniffer of the gateway: media type from the first bytes, never from the file
 * name or the client's Content-Type (both are attacker-controlled). Policies about what a given
 * input accepts (avatar, audio upload) sit on top of it, next to their users.
 */
export type MediaKind = 'image' | 'audio' | 'video';
export type MediaFormat =
  'png' | 'jpg' | 'webp' | 'gif' | 'avif' | 'heic' | 'wav' | 'mp3' | 'ogg' | 'flac' | 'mp4' | 'webm' | 'avi' | 'flv' | 'mpeg' | 'ts';

export interface SniffResult {
  kind: MediaKind;
  /** container/format name, also used as a stored file's extension */
  format: MediaFormat;
}

/** Bytes needed to classify every supported format (MPEG-TS needs two 188-byte packets' sync bytes). */
export const SNIFF_BYTES = 400;

/** Image formats the avatar pipeline decodes (sharp); other images are refused as unsupported. */
export const AVATAR_IMAGE_FORMATS: readonly MediaFormat[] = ['png', 'jpg', 'webp'];

const startsWith = (buf: Uint8Array, sig: number[], offset = 0): boolean =>
  buf.length >= offset + sig.length && sig.every((b, i) => buf[offset + i] === b);
const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
const text = (b: Uint8Array, at: number, len: number): string => String.fromCharCode(...b.subarray(at, Math.min(b.length, at + len)));

// ISO-BMFF brands that are still images, not movies
const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIF_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'mif1', 'msf1']);

/** An MPEG audio frame header: 11 sync bits, a valid version and layer (not the reserved values). */
function isMpegAudioSync(buf: Uint8Array): boolean {
  if (buf.length < 2 || buf[0] !== 0xff || (buf[1] & 0xe0) !== 0xe0) return false;
  const version = (buf[1] >> 3) & 0x03;
  const layer = (buf[1] >> 1) & 0x03;
  return version !== 0x01 && layer !== 0x00;
}

/** Where an ID3v2 tag (10-byte header + syncsafe size [+ footer]) ends; undefined when `head` does not start with one. */
export function id3TagEnd(head: Uint8Array): number | undefined {
  if (!startsWith(head, ascii('ID3')) || head.length < 10) return undefined;
  const size = [6, 7, 8, 9].reduce((n, i) => (n << 7) | (head[i] & 0x7f), 0);
  const footer = head[5] & 0x10 ? 10 : 0;
  return 10 + size + footer;
}

/**
 * What follows an ID3 tag must be an MPEG audio frame (after zero padding): an ID3 tag in front of
 * a playlist or any other text is how a file sniffs as MP3 while ffmpeg's probe would read it as HLS.
 */
export function isMpegAudioAfterTag(rest: Uint8Array): boolean {
  let i = 0;
  while (i < rest.length && rest[i] === 0) i++;
  return isMpegAudioSync(rest.subarray(i));
}

/**
 * Classifies the first bytes of a file; null when the format is not one the gateway knows. An ID3
 * tag that ends beyond `head` gives null: callers with the file use sniffFile(), which looks past it.
 */
export function sniffMedia(head: Uint8Array): SniffResult | null {
  if (startsWith(head, ascii('ID3'))) {
    const end = id3TagEnd(head);
    return end !== undefined && end < head.length && isMpegAudioAfterTag(head.subarray(end)) ? { kind: 'audio', format: 'mp3' } : null;
  }
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { kind: 'image', format: 'png' };
  if (startsWith(head, [0xff, 0xd8, 0xff])) return { kind: 'image', format: 'jpg' };
  if (startsWith(head, ascii('GIF87a')) || startsWith(head, ascii('GIF89a'))) return { kind: 'image', format: 'gif' };
  if (startsWith(head, ascii('RIFF'))) {
    const type = text(head, 8, 4);
    if (type === 'WEBP') return { kind: 'image', format: 'webp' };
    if (type === 'WAVE') return { kind: 'audio', format: 'wav' };
    if (type === 'AVI ') return { kind: 'video', format: 'avi' };
    return null;
  }
  if (startsWith(head, ascii('ftyp'), 4)) {
    const brand = text(head, 8, 4);
    if (AVIF_BRANDS.has(brand)) return { kind: 'image', format: 'avif' };
    if (HEIF_BRANDS.has(brand)) return { kind: 'image', format: 'heic' };
    // mp4, mov, m4a: the probe tells whether there is a video or only an audio track
    return { kind: 'video', format: 'mp4' };
  }
  if (isMpegAudioSync(head)) return { kind: 'audio', format: 'mp3' };
  if (startsWith(head, ascii('OggS'))) return { kind: 'audio', format: 'ogg' };
  if (startsWith(head, ascii('fLaC'))) return { kind: 'audio', format: 'flac' };
  if (startsWith(head, [0x1a, 0x45, 0xdf, 0xa3])) return { kind: 'video', format: 'webm' }; // Matroska/WebM
  if (startsWith(head, ascii('FLV'))) return { kind: 'video', format: 'flv' };
  if (startsWith(head, [0, 0, 1, 0xba])) return { kind: 'video', format: 'mpeg' }; // MPEG-PS
  if (head.length >= 189 && head[0] === 0x47 && head[188] === 0x47) return { kind: 'video', format: 'ts' }; // MPEG-TS
  return null;
}
