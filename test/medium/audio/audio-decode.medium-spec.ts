import { promises as fs } from 'fs';
import * as path from 'path';
import { AudioService } from '../../../gateway/src/audio/audio.service';
import { GatewayError } from '../../../gateway/src/common/errors';
import { FfmpegRunner } from '../../../gateway/src/media/ffmpeg-runner';
import { ffmpeg, headerOnlyWav, MEL_REFERENCE, python, readF32, speech16k, tempDir } from '../../helpers/audio-clips';
import { codeOf } from '../../helpers/errors';

describe('AudioService with real ffmpeg', () => {
  let dir: string;
  let wav16: string;
  let refPcm: Float32Array;
  const sut = new AudioService(new FfmpegRunner(), { maxAudioSeconds: 600 });

  beforeAll(async () => {
    dir = await tempDir();
    wav16 = await speech16k(dir, 'Lips move with the words.');
    // python reads the PCM-16 samples itself: int16 / 32768
    await python([MEL_REFERENCE, 'wav', wav16, path.join(dir, 'ref.f32')]);
    refPcm = await readF32(path.join(dir, 'ref.f32'));
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it('should pass 16 kHz PCM-16 WAV through bit-exactly as x/32768', async () => {
    const pcm = await sut.decode(wav16);
    expect(pcm.length).toBe(refPcm.length);
    expect(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength).equals(Buffer.from(refPcm.buffer))).toBe(true);
  });

  it('should mix stereo to the mean of the channels, as librosa does', async () => {
    const stereo = path.join(dir, 'stereo.wav');
    await ffmpeg([
      '-i',
      wav16,
      '-f',
      'lavfi',
      '-i',
      'sine=f=300:r=16000:d=5',
      '-filter_complex',
      '[0][1]amerge=inputs=2[a]',
      '-map',
      '[a]',
      '-t',
      '1',
      '-c:a',
      'pcm_s16le',
      stereo,
    ]);
    await python([MEL_REFERENCE, 'wav', stereo, path.join(dir, 'stereo.f32')]);
    const ref = await readF32(path.join(dir, 'stereo.f32'));
    const pcm = await sut.decode(stereo);
    expect(pcm.length).toBe(ref.length);
    let max = 0;
    for (let i = 0; i < ref.length; i++) max = Math.max(max, Math.abs(pcm[i] - ref[i]));
    expect(max).toBeLessThan(1e-6);
  });

  const containers: [string, string[]][] = [
    ['wav44k.wav', ['-ar', '44100', '-c:a', 'pcm_s16le']],
    ['clip.mp3', ['-c:a', 'libmp3lame', '-b:a', '64k']],
    ['clip.ogg', ['-c:a', 'libopus', '-b:a', '32k']],
    ['clip.m4a', ['-c:a', 'aac', '-b:a', '64k']],
    ['clip.flac', ['-c:a', 'flac']],
    [
      'clip.mp4',
      [
        '-f',
        'lavfi',
        '-i',
        'color=c=gray:s=64x64:r=10',
        '-map',
        '1:v',
        '-map',
        '0:a',
        '-shortest',
        '-c:v',
        'libx264',
        '-pix_fmt',
        'yuv420p',
        '-c:a',
        'aac',
      ],
    ],
  ];

  it.each(containers)('should decode %s to 16 kHz mono of the right duration', async (name, args) => {
    const out = path.join(dir, name);
    await ffmpeg(['-i', wav16, ...args, out]);
    const pcm = await sut.decode(out);
    // codec delay/padding differ per format: allow 60 ms
    expect(Math.abs(pcm.length - refPcm.length) / 16000).toBeLessThan(0.06);
    let energy = 0;
    for (const v of pcm) energy += v * v;
    expect(energy / pcm.length).toBeGreaterThan(1e-4);
  });

  it('should refuse a video without audio with NO_AUDIO_STREAM', async () => {
    const out = path.join(dir, 'video-only.mp4');
    await ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=64x64:rate=10', '-t', '1', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', out]);
    expect(await codeOf(sut.decode(out))).toBe('NO_AUDIO_STREAM');
  });

  it('should refuse an empty file and a header-only WAV with AUDIO_EMPTY', async () => {
    const empty = path.join(dir, 'empty.wav');
    await fs.writeFile(empty, '');
    expect(await codeOf(sut.decode(empty))).toBe('AUDIO_EMPTY');
    const header = path.join(dir, 'header.wav');
    await fs.writeFile(header, headerOnlyWav(0));
    expect(await codeOf(sut.decode(header))).toBe('AUDIO_EMPTY');
    const lying = path.join(dir, 'lying-header.wav');
    await fs.writeFile(lying, headerOnlyWav(32000));
    expect(await codeOf(sut.decode(lying))).toBe('AUDIO_EMPTY');
  });

  it('should refuse a text file, whatever its name, with UNSUPPORTED_MEDIA before ffmpeg reads it', async () => {
    for (const name of ['notes.txt', 'fake.wav']) {
      const text = path.join(dir, name);
      await fs.writeFile(text, 'this is not audio at all\n'.repeat(20));
      expect(await codeOf(sut.decode(text))).toBe('UNSUPPORTED_MEDIA');
    }
  });

  it('should refuse a broken WAV with AUDIO_UNDECODABLE: ffprobe’s reason in the details, not in the message', async () => {
    const broken = path.join(dir, 'broken.wav');
    const header = headerOnlyWav(1000);
    header.writeUInt16LE(0x7777, 20); // an unknown codec tag
    await fs.writeFile(broken, Buffer.concat([header, Buffer.alloc(1000, 7)]));
    const err = await sut.decode(broken).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('AUDIO_UNDECODABLE');
    expect((err as GatewayError).message).toBe('the audio file cannot be decoded');
    expect(String((err as GatewayError).details?.stderr)).not.toBe('');
  });

  it('should refuse audio longer than the configured maximum with AUDIO_TOO_LONG', async () => {
    const small = new AudioService(new FfmpegRunner(), { maxAudioSeconds: 1 });
    expect(await codeOf(small.decode(wav16))).toBe('AUDIO_TOO_LONG');
  });

  it('should refuse a missing file with VALIDATION_FAILED', async () => {
    expect(await codeOf(sut.decode(path.join(dir, 'missing.wav')))).toBe('VALIDATION_FAILED');
  });

  it('should stop with CANCELLED when the signal is already aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    expect(await codeOf(sut.decode(wav16, { signal: ac.signal }))).toBe('CANCELLED');
  });
});
