import { GatewayError } from '../../../gateway/src/common/errors';
import {
  assertProbedFormat,
  pinnedFormatOf,
  pinnedInputArgs,
  pinnedProbeInput,
  requirePinnedFormat,
} from '../../../gateway/src/media/demuxer-allowlist';
import type { MediaFormat, SniffResult } from '../../../gateway/src/media/media-sniff';

const found = (kind: SniffResult['kind'], format: MediaFormat): SniffResult => ({ kind, format });

describe('demuxer allowlist', () => {
  it.each([
    ['wav', 'audio', 'wav', 'wav'],
    ['mp3', 'audio', 'mp3', 'mp3'],
    ['ogg', 'audio', 'ogg', 'ogg'],
    ['flac', 'audio', 'flac', 'flac'],
    ['mp4', 'video', 'mov', 'mov,mp4,m4a,3gp,3g2,mj2'],
    ['webm', 'video', 'matroska', 'matroska,webm'],
    ['avi', 'video', 'avi', 'avi'],
    ['flv', 'video', 'flv', 'flv'],
    ['mpeg', 'video', 'mpeg', 'mpeg'],
    ['ts', 'video', 'mpegts', 'mpegts'],
  ] as const)('should pin %s to the %s demuxer and accept its own format_name', (format, kind, demuxer, formatName) => {
    const pinned = pinnedFormatOf(found(kind, format))!;
    expect(pinned.demuxer).toBe(demuxer);
    expect(() => assertProbedFormat(pinned, formatName, 'the audio file')).not.toThrow();
  });

  it('should never pin a demuxer that follows references to other files', () => {
    const all: MediaFormat[] = [
      'png',
      'jpg',
      'webp',
      'gif',
      'avif',
      'heic',
      'wav',
      'mp3',
      'ogg',
      'flac',
      'mp4',
      'webm',
      'avi',
      'flv',
      'mpeg',
      'ts',
    ];
    const demuxers = all.map((f) => pinnedFormatOf(found('video', f))?.demuxer).filter(Boolean);
    for (const bad of ['hls', 'applehttp', 'concat', 'image2', 'sdp', 'rtsp', 'dash', 'tee', 'lavfi']) expect(demuxers).not.toContain(bad);
  });

  it('should refuse images, unknown content and formats without a pinned demuxer (UNSUPPORTED_MEDIA)', () => {
    expect(pinnedFormatOf(null)).toBeNull();
    expect(pinnedFormatOf(found('image', 'png'))).toBeNull();
    expect(pinnedFormatOf(found('image', 'gif'))).toBeNull();
    const err = (() => {
      try {
        requirePinnedFormat(null, 'the audio file');
      } catch (e) {
        return e as GatewayError;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(GatewayError);
    expect(err!.code).toBe('UNSUPPORTED_MEDIA');
    expect(err!.message).toMatch(/^the audio file /);
  });

  it('should refuse a probe that reports another container than the pinned one', () => {
    const mp3 = pinnedFormatOf(found('audio', 'mp3'))!;
    for (const other of ['hls', 'concat', 'sdp', 'image2', 'wav', undefined]) {
      expect(() => assertProbedFormat(mp3, other, 'the audio file')).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_MEDIA' }));
    }
  });

  it('should put -f and the file,pipe protocol whitelist before the input, the path behind file:', () => {
    const webm = pinnedFormatOf(found('video', 'webm'))!;
    expect(pinnedInputArgs(webm, '/d/a b.webm')).toEqual(['-f', 'matroska', '-protocol_whitelist', 'file,pipe', '-i', 'file:/d/a b.webm']);
    expect(pinnedProbeInput(webm, '/d/x.webm')).toEqual(['-f', 'matroska', '-protocol_whitelist', 'file,pipe', 'file:/d/x.webm']);
  });
});
