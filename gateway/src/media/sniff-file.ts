import { promises as fs } from 'fs';
import { id3TagEnd, isMpegAudioAfterTag, SNIFF_BYTES, SniffResult, sniffMedia } from './media-sniff';

/** Bytes read past an ID3 tag: enough for zero padding and the first frame header. */
const AFTER_TAG_BYTES = 4096;

async function readAt(fh: fs.FileHandle, at: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, at);
  return buf.subarray(0, bytesRead);
}

/**
 * Sniffs a file by content (media-sniff.ts), reading past a long ID3 tag (cover art) to check that
 * MPEG audio follows it. Returns the head too (empty for an empty file). Errors of open() propagate.
 */
export async function sniffFile(file: string): Promise<{ head: Buffer; found: SniffResult | null }> {
  const fh = await fs.open(file, 'r');
  try {
    const head = await readAt(fh, 0, SNIFF_BYTES);
    const end = id3TagEnd(head);
    if (end !== undefined && end >= head.length) {
      const rest = await readAt(fh, end, AFTER_TAG_BYTES);
      return { head, found: isMpegAudioAfterTag(rest) ? { kind: 'audio', format: 'mp3' } : null };
    }
    return { head, found: sniffMedia(head) };
  } finally {
    await fh.close();
  }
}

/** Same as sniffFile() for bytes in memory. */
export function sniffBuffer(bytes: Uint8Array): SniffResult | null {
  const end = id3TagEnd(bytes);
  if (end !== undefined)
    return end < bytes.length && isMpegAudioAfterTag(bytes.subarray(end, end + AFTER_TAG_BYTES)) ? { kind: 'audio', format: 'mp3' } : null;
  return sniffMedia(bytes.subarray(0, SNIFF_BYTES));
}
