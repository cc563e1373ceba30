import { sniffAvatarMedia } from '../../../gateway/src/face/media-sniff';

const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

describe(sniffAvatarMedia.name, () => {
  it.each([
    ['png', bytes([0x89], 'PNG', [0x0d, 0x0a, 0x1a, 0x0a], 'rest')],
    ['jpeg', bytes([0xff, 0xd8, 0xff, 0xe0], 'JFIF')],
    ['webp', bytes('RIFF', [1, 2, 3, 4], 'WEBPVP8 ')],
    ['video', bytes([0, 0, 0, 0x20], 'ftypisom', [0, 0, 2, 0])],
    ['video', bytes([0, 0, 0, 0x14], 'ftypqt  ')],
    ['video', bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f])],
    ['video', bytes('RIFF', [1, 2, 3, 4], 'AVI LIST')],
    ['unknown', bytes([0, 0, 0, 0x1c], 'ftypavif')],
    ['unknown', bytes('GIF89a')],
    ['unknown', bytes('hello, this is text')],
    ['unknown', bytes('RIFF', [1, 2, 3, 4], 'WAVEfmt ')],
    ['unknown', bytes([])],
  ])('should recognise %s', (kind, b) => {
    expect(sniffAvatarMedia(b)).toBe(kind);
  });
});
