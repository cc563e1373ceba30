import { acceptsUpload, FIELD_KINDS } from '../../../gateway/src/api/media-sniff.util';
import { sniffMedia } from '../../../gateway/src/media/media-sniff';

const bytes = (...parts: (number[] | string)[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p)));

describe('sniffMedia', () => {
  it.each([
    ['png', bytes([0x89], 'PNG', [0x0d, 0x0a, 0x1a, 0x0a, 0, 0]), 'image', 'png'],
    ['jpeg', bytes([0xff, 0xd8, 0xff, 0xe0]), 'image', 'jpg'],
    ['webp', bytes('RIFF', [1, 2, 3, 4], 'WEBPVP8 '), 'image', 'webp'],
    ['gif', bytes('GIF89a', [1, 0]), 'image', 'gif'],
    ['wav', bytes('RIFF', [1, 2, 3, 4], 'WAVEfmt '), 'audio', 'wav'],
    ['mp3 with ID3', bytes('ID3', [4, 0, 0, 0, 0, 0, 2], [0, 0], [0xff, 0xfb, 0x90, 0x64]), 'audio', 'mp3'],
    ['mp3 frame sync', bytes([0xff, 0xfb, 0x90, 0x64]), 'audio', 'mp3'],
    ['ogg', bytes('OggS', [0, 2]), 'audio', 'ogg'],
    ['flac', bytes('fLaC', [0, 0, 0, 34]), 'audio', 'flac'],
    ['mp4', bytes([0, 0, 0, 0x20], 'ftypisom'), 'video', 'mp4'],
    ['m4a', bytes([0, 0, 0, 0x1c], 'ftypM4A '), 'video', 'mp4'],
    ['webm', bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f]), 'video', 'webm'],
    ['avi', bytes('RIFF', [1, 2, 3, 4], 'AVI LIST'), 'video', 'avi'],
    ['avif', bytes([0, 0, 0, 0x1c], 'ftypavif'), 'image', 'avif'],
    ['heic', bytes([0, 0, 0, 0x18], 'ftypheic'), 'image', 'heic'],
    ['flv', bytes('FLV', [1, 5]), 'video', 'flv'],
    ['mpeg-ts', Uint8Array.from({ length: 376 }, (_, i) => (i % 188 === 0 ? 0x47 : 0)), 'video', 'ts'],
    ['mpeg-ps', bytes([0, 0, 1, 0xba, 0x44]), 'video', 'mpeg'],
  ])('should classify %s by its magic bytes', (_name, head, kind, format) => {
    expect(sniffMedia(head)).toEqual({ kind, format });
  });

  it.each([
    ['plain text', bytes('hello world, not media')],
    ['an unknown RIFF form', bytes('RIFF', [1, 2, 3, 4], 'CDDAfmt ')],
    ['a reserved MPEG version', bytes([0xff, 0xeb, 0x90])],
    ['an empty file', new Uint8Array(0)],
    ['a truncated PNG signature', bytes([0x89], 'PN')],
    // an ID3 tag in front of a playlist sniffs as MP3 by its first bytes, and ffmpeg would read it as HLS
    ['an ID3 tag followed by an HLS playlist', bytes('ID3', [3, 0, 0, 0, 0, 0, 0], '#EXTM3U\n#EXTINF:10,\nfile:/data/other.mp4\n')],
    ['an ID3 tag that ends past the bytes given', bytes('ID3', [3, 0, 0, 0, 0, 0x7f, 0x7f], [0xff, 0xfb])],
    ['an ID3 header cut short', bytes('ID3', [4, 0, 0])],
  ])('should refuse %s', (_name, head) => {
    expect(sniffMedia(head)).toBeNull();
  });

  it('should accept only images and videos as faces and only audio or video as speech', () => {
    expect(FIELD_KINDS.face).not.toContain('audio');
    expect(FIELD_KINDS.audio).not.toContain('image');
  });
});

describe(acceptsUpload.name, () => {
  it('should accept faces only in formats the avatar pipeline decodes', () => {
    expect(acceptsUpload('face', { kind: 'image', format: 'png' })).toBe(true);
    expect(acceptsUpload('face', { kind: 'video', format: 'mp4' })).toBe(true);
    expect(acceptsUpload('face', { kind: 'image', format: 'gif' })).toBe(false);
    expect(acceptsUpload('face', { kind: 'audio', format: 'wav' })).toBe(false);
    expect(acceptsUpload('face', null)).toBe(false);
  });

  it('should accept audio or a video track as speech, never an image', () => {
    expect(acceptsUpload('audio', { kind: 'audio', format: 'mp3' })).toBe(true);
    expect(acceptsUpload('audio', { kind: 'video', format: 'mp4' })).toBe(true);
    expect(acceptsUpload('audio', { kind: 'image', format: 'jpg' })).toBe(false);
  });
});
