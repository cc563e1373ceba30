import { pinnedFormatOf } from '../../../gateway/src/media/demuxer-allowlist';
import { buildEncodeArgs, buildEncoderProbeArgs } from '../../../gateway/src/render/encoder-args';

const audioFormat = pinnedFormatOf({ kind: 'audio', format: 'wav' })!;
const base = { width: 512, height: 512, fps: 25, audioPath: '/in/a.wav', audioFormat, outPath: '/out/x.mp4', encoder: 'libx264' as const };

function valueOf(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

describe('buildEncodeArgs', () => {
  it('should read raw rgb24 frames of the avatar size from stdin and the audio from its file', () => {
    const args = buildEncodeArgs(base);
    expect(args.slice(args.indexOf('-f'), args.indexOf('pipe:0') + 1)).toEqual([
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-s',
      '512x512',
      '-framerate',
      '25',
      '-i',
      'pipe:0',
    ]);
    expect(args.filter((a) => a === '-i')).toHaveLength(2);
    expect(args[args.lastIndexOf('-i') + 1]).toBe('file:/in/a.wav'); // never read as a protocol (take:1.wav, concat:…)
    // the audio's demuxer is pinned (never probed: an HLS playlist would open other files)
    expect(args.slice(args.lastIndexOf('-i') - 4, args.lastIndexOf('-i'))).toEqual(['-f', 'wav', '-protocol_whitelist', 'file,pipe']);
    expect(args).toEqual(expect.arrayContaining(['-map', '0:v:0', '-map', '1:a:0']));
  });

  it('should make H.264 yuv420p MP4 with +faststart and the output path last', () => {
    const args = buildEncodeArgs(base);
    expect(valueOf(args, '-c:v')).toBe('libx264');
    expect(valueOf(args, '-pix_fmt')).toBe('rgb24'); // first occurrence is the input format
    expect(args[args.lastIndexOf('-pix_fmt') + 1]).toBe('yuv420p');
    expect(valueOf(args, '-movflags')).toBe('+faststart');
    expect(valueOf(args, '-crf')).toBe('20');
    expect(args[args.length - 1]).toBe('/out/x.mp4');
    expect(valueOf(args, '-c:a')).toBe('aac');
  });

  it('should use NVENC options when the encoder is h264_nvenc', () => {
    const args = buildEncodeArgs({ ...base, encoder: 'h264_nvenc', quality: 23 });
    expect(valueOf(args, '-c:v')).toBe('h264_nvenc');
    expect(valueOf(args, '-cq')).toBe('23');
    expect(args).not.toContain('-crf');
  });

  it('should write a fragmented MP4 with a keyframe every second when fragmented', () => {
    const args = buildEncodeArgs({ ...base, fps: 30, fragmented: true });
    expect(valueOf(args, '-movflags')).toBe('frag_keyframe+empty_moov+default_base_moof');
    expect(valueOf(args, '-g')).toBe('30');
  });

  it('should tune a fragmented encode for latency: zerolatency, no B-frames, flushed fragments of one frame', () => {
    const args = buildEncodeArgs({ ...base, fps: 25, fragmented: true });
    expect(valueOf(args, '-tune')).toBe('zerolatency');
    expect(valueOf(args, '-bf')).toBe('0');
    expect(valueOf(args, '-flush_packets')).toBe('1');
    expect(Number(valueOf(args, '-frag_duration'))).toBe(40_000); // µs, ≤ 0.5 s
    expect(args.indexOf('-movflags')).toBeLessThan(args.indexOf('-f', args.indexOf('-movflags')));
    const plain = buildEncodeArgs(base);
    expect(plain).not.toContain('zerolatency');
    expect(plain).not.toContain('-flush_packets');
    const nv = buildEncodeArgs({ ...base, encoder: 'h264_nvenc', fragmented: true });
    expect(valueOf(nv, '-tune')).toBe('ll');
    expect(valueOf(nv, '-bf')).toBe('0');
  });

  it('should scale to an even output height keeping the aspect ratio', () => {
    expect(valueOf(buildEncodeArgs({ ...base, outputHeight: 256 }), '-vf')).toBe('scale=-2:256:flags=bicubic');
    expect(() => buildEncodeArgs({ ...base, outputHeight: 255 })).toThrow(/even/);
  });

  it('should refuse odd or empty frame sizes and bad fps', () => {
    expect(() => buildEncodeArgs({ ...base, width: 511 })).toThrow(/even/);
    expect(() => buildEncodeArgs({ ...base, height: 0 })).toThrow(/even/);
    expect(() => buildEncodeArgs({ ...base, fps: 0 })).toThrow(/fps/);
  });
});

describe('buildEncoderProbeArgs', () => {
  it('should encode one synthetic frame with the given encoder to the null muxer', () => {
    const args = buildEncoderProbeArgs('h264_nvenc');
    expect(valueOf(args, '-c:v')).toBe('h264_nvenc');
    expect(valueOf(args, '-frames:v')).toBe('1');
    expect(args.slice(-3)).toEqual(['-f', 'null', '-']);
  });
});
