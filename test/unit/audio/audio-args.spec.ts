import { buildDecodeArgs, buildProbeArgs, checkProbe, monoMixFilter, parseProbe } from '../../../gateway/src/audio/audio-args';
import { GatewayError } from '../../../gateway/src/common/errors';
import { pinnedFormatOf } from '../../../gateway/src/media/demuxer-allowlist';

const WAV = pinnedFormatOf({ kind: 'audio', format: 'wav' })!;
const MP3 = pinnedFormatOf({ kind: 'audio', format: 'mp3' })!;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof GatewayError ? err.code : 'not a GatewayError';
  }
  return undefined;
}

describe('audio args', () => {
  it('should probe streams and format as JSON with the demuxer pinned, only file/pipe protocols and the path behind file:', () => {
    const args = buildProbeArgs('/tmp/a b.wav', WAV);
    expect(args).toEqual([
      '-v',
      'error',
      '-print_format',
      'json',
      '-show_streams',
      '-show_format',
      '-f',
      'wav',
      '-protocol_whitelist',
      'file,pipe',
      'file:/tmp/a b.wav',
    ]);
  });

  it('should decode to 16 kHz mono f32le on stdout with a length cap', () => {
    const args = buildDecodeArgs('clip.mp3', { maxSeconds: 601, channels: 2, pinned: MP3 });
    const at = (flag: string) => args[args.indexOf(flag) + 1];
    // the input's demuxer is pinned before -i; the output format comes last
    expect(args.slice(args.indexOf('-i') - 4, args.indexOf('-i'))).toEqual(['-f', 'mp3', '-protocol_whitelist', 'file,pipe']);
    expect(args[args.lastIndexOf('-f') + 1]).toBe('f32le');
    expect(at('-ac')).toBe('1');
    expect(at('-ar')).toBe('16000');
    expect(at('-t')).toBe('601');
    expect(at('-map')).toBe('0:a:0');
    expect(at('-i')).toMatch(/^file:\/.*clip\.mp3$/);
    expect(args[args.length - 1]).toBe('pipe:1');
    expect(at('-af')).toBe('aformat=sample_fmts=flt,pan=mono|c0=0.5*c0+0.5*c1,aresample=16000:resampler=soxr:precision=28');
  });

  it('should mix channels by their mean and leave mono alone', () => {
    expect(monoMixFilter(1)).toBeNull();
    expect(monoMixFilter(null)).toBeNull();
    expect(monoMixFilter(4)).toBe('aformat=sample_fmts=flt,pan=mono|c0=0.25*c0+0.25*c1+0.25*c2+0.25*c3');
  });

  it('should read duration from the audio stream, else from the format', () => {
    const withStream = parseProbe(
      JSON.stringify({
        streams: [{ codec_type: 'video' }, { codec_type: 'audio', codec_name: 'aac', sample_rate: '44100', channels: 2, duration: '2.5' }],
        format: { format_name: 'mov', duration: '3' },
      }),
      'x',
    );
    expect(withStream).toMatchObject({ durationSec: 2.5, codec: 'aac', sampleRate: 44100, channels: 2, formatName: 'mov' });
    const withFormat = parseProbe(JSON.stringify({ streams: [{ codec_type: 'audio' }], format: { duration: '1.25' } }), 'x');
    expect(withFormat.durationSec).toBe(1.25);
    expect(parseProbe(JSON.stringify({ streams: [{ codec_type: 'audio' }], format: {} }), 'x').durationSec).toBeNull();
  });

  it('should refuse a file without an audio stream (NO_AUDIO_STREAM) and garbage output (AUDIO_UNDECODABLE)', () => {
    expect(codeOf(() => parseProbe(JSON.stringify({ streams: [{ codec_type: 'video' }], format: {} }), 'x'))).toBe('NO_AUDIO_STREAM');
    expect(codeOf(() => parseProbe('{}', 'x'))).toBe('NO_AUDIO_STREAM');
    expect(codeOf(() => parseProbe('not json', 'x'))).toBe('AUDIO_UNDECODABLE');
    const ttyText = { streams: [{ codec_type: 'video', codec_name: 'ansi' }], format: { format_name: 'tty' } };
    expect(codeOf(() => parseProbe(JSON.stringify(ttyText), 'x'))).toBe('AUDIO_UNDECODABLE');
  });

  it('should refuse zero duration and durations over the limit', () => {
    const probe = { durationSec: 0, formatName: 'wav', codec: 'pcm_s16le', sampleRate: 16000, channels: 1, audioIndex: 0 };
    expect(codeOf(() => checkProbe(probe, 600, 'x'))).toBe('AUDIO_EMPTY');
    expect(codeOf(() => checkProbe({ ...probe, durationSec: 600.5 }, 600, 'x'))).toBe('AUDIO_TOO_LONG');
    expect(codeOf(() => checkProbe({ ...probe, durationSec: 600 }, 600, 'x'))).toBeUndefined();
    expect(codeOf(() => checkProbe({ ...probe, durationSec: null }, 600, 'x'))).toBeUndefined();
  });
});
