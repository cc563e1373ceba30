/**
 * Content sniffing by magic bytes. Uploads are classified by what they contain, never by the
 * client's file name or Content-Type (both are attacker-controlled).
 */
export type MediaKind = 'image' | 'audio' | 'video';

export interface SniffResult {
  kind: MediaKind;
  /** short container/format name, also used as the stored file's extension */
  format: 'png' | 'jpg' | 'webp' | 'gif' | 'wav' | 'mp3' | 'ogg' | 'flac' | 'mp4' | 'webm';
}

/** Bytes needed to classify every supported format. */
export const SNIFF_BYTES = 16;

const startsWith = (buf: Uint8Array, sig: number[], offset = 0): boolean =>
  buf.length >= offset + sig.length && sig.every((b, i) => buf[offset + i] === b);

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

/** An MPEG audio frame header: 11 sync bits, a valid version and layer (not the reserved values). */
function isMpegAudioSync(buf: Uint8Array): boolean {
  if (buf.length < 2 || buf[0] !== 0xff || (buf[1] & 0xe0) !== 0xe0) return false;
  const version = (buf[1] >> 3) & 0x03;
  const layer = (buf[1] >> 1) & 0x03;
  return version !== 0x01 && layer !== 0x00;
}

/** Classifies the first bytes of a file; null when the format is not supported. */
export function sniffMedia(head: Uint8Array): SniffResult | null {
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { kind: 'image', format: 'png' };
  if (startsWith(head, [0xff, 0xd8, 0xff])) return { kind: 'image', format: 'jpg' };
  if (startsWith(head, ascii('GIF87a')) || startsWith(head, ascii('GIF89a'))) return { kind: 'image', format: 'gif' };
  if (startsWith(head, ascii('RIFF'))) {
    if (startsWith(head, ascii('WEBP'), 8)) return { kind: 'image', format: 'webp' };
    if (startsWith(head, ascii('WAVE'), 8)) return { kind: 'audio', format: 'wav' };
    return null;
  }
  if (startsWith(head, ascii('ID3')) || isMpegAudioSync(head)) return { kind: 'audio', format: 'mp3' };
  if (startsWith(head, ascii('OggS'))) return { kind: 'audio', format: 'ogg' };
  if (startsWith(head, ascii('fLaC'))) return { kind: 'audio', format: 'flac' };
  // ISO BMFF (mp4, m4a, mov): box size, then 'ftyp'; m4a is audio-only but probed the same way.
  if (startsWith(head, ascii('ftyp'), 4)) return { kind: 'video', format: 'mp4' };
  if (startsWith(head, [0x1a, 0x45, 0xdf, 0xa3])) return { kind: 'video', format: 'webm' };
  return null;
}

/** What each upload field accepts: a face is an image or a video; audio may come from a video's track. */
export const FIELD_KINDS = {
  face: ['image', 'video'],
  audio: ['audio', 'video'],
  file: ['image', 'video'],
} as const satisfies Record<string, readonly MediaKind[]>;
