import { promises as fs } from 'fs';
import * as path from 'path';
import { AudioService } from '../../../gateway/src/audio/audio.service';
import { decodeVideo } from '../../../gateway/src/face/video-frames';
import { pinnedFormatOf } from '../../../gateway/src/media/demuxer-allowlist';
import { FfmpegRunner } from '../../../gateway/src/media/ffmpeg-runner';
import { sniffFile } from '../../../gateway/src/media/sniff-file';
import { ffmpeg, tempDir } from '../../helpers/audio-clips';
import { codeOf } from '../../helpers/errors';

// Issue 10, item 1, with real ffprobe/ffmpeg: every container the sniffer knows probes and decodes
// under its pinned demuxer (the format_name table matches this ffmpeg), and a playlist behind an
// ID3 tag never reaches the file it names.
describe('pinned demuxers with real ffmpeg', () => {
  let dir: string;
  const runner = new FfmpegRunner();
  const audio = new AudioService(runner, { maxAudioSeconds: 60 });

  beforeAll(async () => {
    dir = await tempDir();
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it.each([
    ['wav', ['-c:a', 'pcm_s16le']],
    ['mp3', ['-c:a', 'libmp3lame']],
    ['ogg', ['-c:a', 'libvorbis']],
    ['flac', []],
    ['m4a', ['-c:a', 'aac']],
    ['mkv', ['-c:a', 'flac']],
    ['avi', ['-c:a', 'pcm_s16le']],
    ['flv', ['-c:a', 'aac']],
    ['mpg', ['-c:a', 'mp2']],
    ['ts', ['-c:a', 'mp2']],
  ])('should probe and decode %s audio under its pinned demuxer', async (ext, codec) => {
    const file = path.join(dir, `tone.${ext}`);
    await ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100:duration=1', ...codec, file]);
    const { found } = await sniffFile(file);
    expect(pinnedFormatOf(found)).not.toBeNull();
    const decoded = await audio.load(file);
    expect(decoded.probe.pinned.demuxer).toBe(pinnedFormatOf(found)!.demuxer);
    expect(decoded.durationSec).toBeGreaterThan(0.9);
  });

  it('should decode a video avatar under its pinned demuxer and refuse a file whose container is not the pinned one', async () => {
    const mp4 = path.join(dir, 'clip.mp4');
    await ffmpeg(['-f', 'lavfi', '-i', 'color=c=gray:s=64x48:r=10:d=0.5', '-pix_fmt', 'yuv420p', mp4]);
    const limits = { maxVideoSeconds: 10, maxVideoFrames: 100, maxVideoBytes: 1 << 24, maxPixels: 1 << 20 };
    const v = await decodeVideo(runner, mp4, limits, pinnedFormatOf({ kind: 'video', format: 'mp4' })!);
    expect(v.frames.length).toBe(5);
    // the same bytes forced through another demuxer are refused, not guessed
    expect(await codeOf(decodeVideo(runner, mp4, limits, pinnedFormatOf({ kind: 'video', format: 'webm' })!))).toBe('UNSUPPORTED_MEDIA');
  });

  it('should refuse an HLS playlist behind an ID3 tag without opening the file it names', async () => {
    const other = path.join(dir, 'other.m4a');
    await ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=300:duration=1', '-c:a', 'aac', other]);
    const evil = path.join(dir, 'evil.mp3');
    const playlist = `#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile:${other}\n#EXT-X-ENDLIST\n`;
    await fs.writeFile(evil, Buffer.concat([Buffer.from('ID3\x03\x00\x00\x00\x00\x00\x00', 'latin1'), Buffer.from(playlist)]));
    expect(await codeOf(audio.load(evil))).toBe('UNSUPPORTED_MEDIA');
    // a real MP3 with a long ID3 tag (beyond the first bytes read) is still audio
    const tagged = path.join(dir, 'tagged.mp3');
    await ffmpeg([
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:duration=1',
      '-metadata',
      `comment=${'x'.repeat(3000)}`,
      '-c:a',
      'libmp3lame',
      tagged,
    ]);
    expect((await audio.load(tagged)).durationSec).toBeGreaterThan(0.9);
  });
});
