import { promises as fs } from 'fs';
import * as path from 'path';
import { buildDecodeArgs } from '../../../gateway/src/audio/audio-args';
import { AudioService } from '../../../gateway/src/audio/audio.service';
import { pinnedFormatOf } from '../../../gateway/src/media/demuxer-allowlist';
import { FfmpegRunner } from '../../../gateway/src/media/ffmpeg-runner';
import { melSpectrogram } from '../../../gateway/src/audio/mel-spectrogram';
import { MAX_RESAMPLED_SECONDS } from '../../../gateway/src/audio/resample';
import { espeak, speech16k, tempDir } from '../../helpers/audio-clips';

/** A RIFF WAV of mono s16le samples (16 kHz unless said) with optional extra chunks before the data and a declared data size. */
function wavFile(samples: Int16Array, o: { before?: Buffer[]; declared?: number; trailing?: Buffer; rate?: number } = {}): Buffer {
  const rate = o.rate ?? 16000;
  const fmt = Buffer.alloc(24);
  fmt.write('fmt ', 0, 'latin1');
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(1, 8);
  fmt.writeUInt16LE(1, 10);
  fmt.writeUInt32LE(rate, 12);
  fmt.writeUInt32LE(2 * rate, 16);
  fmt.writeUInt16LE(2, 20);
  fmt.writeUInt16LE(16, 22);
  const data = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  const dataHead = Buffer.alloc(8);
  dataHead.write('data', 0, 'latin1');
  dataHead.writeUInt32LE(o.declared ?? data.length, 4);
  const body = Buffer.concat([Buffer.from('WAVE', 'latin1'), ...(o.before ?? []), fmt, dataHead, data, o.trailing ?? Buffer.alloc(0)]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

/** A chunk with `size` bytes of body, padded to an even length as RIFF wants. */
function chunk(id: string, size: number): Buffer {
  const b = Buffer.alloc(8 + size + (size % 2), 0x41);
  b.write(id, 0, 'latin1');
  b.writeUInt32LE(size, 4);
  return b;
}

/** What ffmpeg itself makes of the file (the decode the in-process reader replaces). */
async function ffmpegPcm(runner: FfmpegRunner, file: string): Promise<Buffer> {
  const pinned = pinnedFormatOf({ kind: 'audio', format: 'wav' })!;
  const parts: Buffer[] = [];
  await runner.stream(buildDecodeArgs(file, { maxSeconds: 601, channels: 1, pinned }), (c) => parts.push(c));
  return Buffer.concat(parts);
}

describe('WAVs read in-process', () => {
  let dir: string;
  const runner = new FfmpegRunner();
  const probeSpy = jest.spyOn(runner, 'probe');
  const streamSpy = jest.spyOn(runner, 'stream');
  const sut = new AudioService(runner, { maxAudioSeconds: 600 });

  beforeAll(async () => (dir = await tempDir('plain-wav-')));
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  describe('plain 16 kHz mono WAV (no ffprobe, no ffmpeg)', () => {
    const noise = () => {
      const s = new Int16Array(16000 * 2 + 123);
      let x = 12345;
      for (let i = 0; i < s.length; i++) s[i] = ((x = (x * 1103515245 + 12345) >>> 0) >>> 8) & 0xffff;
      s[0] = -32768;
      s[1] = 32767;
      return s;
    };

    const cases: [string, () => Promise<Buffer>][] = [
      ['espeak speech converted by ffmpeg', async () => fs.readFile(await speech16k(dir, 'Plain samples need no decoder.'))],
      ['full-scale noise', async () => wavFile(noise())],
      ['LIST and fact chunks before the data', async () => wavFile(noise(), { before: [chunk('LIST', 26), chunk('fact', 4)] })],
      ['a chunk after the data (not samples)', async () => wavFile(noise(), { trailing: chunk('LIST', 10) })],
      ['a streamed WAV (data size 0xFFFFFFFF)', async () => wavFile(noise(), { declared: 0xffffffff })],
      ['a data size longer than the file', async () => wavFile(noise(), { declared: 10_000_000 })],
      ['a trailing odd byte', async () => Buffer.concat([wavFile(noise(), { declared: 0xffffffff }), Buffer.from([7])])],
    ];

    it.each(cases)('should give the floats ffmpeg gives, bit for bit: %s', async (name, make) => {
      const file = path.join(dir, `${name.replace(/\W+/g, '-')}.wav`);
      await fs.writeFile(file, await make());
      const expected = await ffmpegPcm(runner, file);
      probeSpy.mockClear();
      streamSpy.mockClear();
      const probe = await sut.probe(file);
      expect(probe.plainWav).toBeDefined();
      const { pcm, durationSec } = await sut.load(file, { probe });
      expect(probeSpy).not.toHaveBeenCalled();
      expect(streamSpy).not.toHaveBeenCalled();
      expect(pcm.length).toBe(expected.length / 4);
      expect(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength).equals(expected)).toBe(true);
      expect(durationSec).toBeCloseTo(expected.length / 4 / 16000, 9);
      expect(probe.durationSec).toBeCloseTo(durationSec, 9);
    });

    it('should leave other WAVs (another rate, stereo, an odd chunk) to ffprobe and ffmpeg', async () => {
      const odd = wavFile(noise(), { before: [chunk('LIST', 25)] });
      const stereo = wavFile(noise());
      stereo.writeUInt16LE(2, 22);
      stereo.writeUInt32LE(64000, 28);
      stereo.writeUInt16LE(4, 32);
      const rate = wavFile(noise());
      rate.writeUInt32LE(11025, 24);
      rate.writeUInt32LE(22050, 28);
      for (const [name, bytes] of Object.entries({ odd, stereo, rate })) {
        const file = path.join(dir, `other-${name}.wav`);
        await fs.writeFile(file, bytes);
        probeSpy.mockClear();
        const probe = await sut.probe(file);
        expect(probe.plainWav).toBeUndefined();
        expect(probeSpy).toHaveBeenCalledTimes(1);
        expect((await sut.load(file, { probe })).pcm.length).toBeGreaterThan(0);
      }
    });

    it('should apply the same limits: too long and empty', async () => {
      const long = path.join(dir, 'long.wav');
      await fs.writeFile(long, wavFile(new Int16Array(16000 * 3)));
      await expect(new AudioService(runner, { maxAudioSeconds: 2 }).probe(long)).rejects.toMatchObject({ code: 'AUDIO_TOO_LONG' });
      const empty = path.join(dir, 'empty.wav');
      await fs.writeFile(empty, wavFile(new Int16Array(0)));
      await expect(sut.load(empty)).rejects.toMatchObject({ code: 'AUDIO_EMPTY' });
    });
  });

  describe("espeak-ng's 22.05 kHz WAV, resampled (the text jobs' speech: no ffprobe, no ffmpeg)", () => {
    it("should give what ffmpeg's resampler gives, as far as the mel can tell", async () => {
      const file = path.join(dir, 'espeak.wav');
      await espeak(file, 'Speech from text is read without starting a process. Seven, eight, nine.');
      const expectedBytes = await ffmpegPcm(runner, file);
      const expected = new Float32Array(expectedBytes.buffer, expectedBytes.byteOffset, expectedBytes.length / 4);
      probeSpy.mockClear();
      streamSpy.mockClear();
      const probe = await sut.probe(file);
      expect(probe).toMatchObject({ sampleRate: 22050, channels: 1, codec: 'pcm_s16le' });
      expect(probe.plainWav).toMatchObject({ sampleRate: 22050 });
      const { pcm, durationSec } = await sut.load(file, { probe });
      expect(probeSpy).not.toHaveBeenCalled();
      expect(streamSpy).not.toHaveBeenCalled();
      expect(pcm.length).toBe(expected.length);
      expect(durationSec).toBeCloseTo(expected.length / 16000, 9);
      expect(probe.durationSec).toBeCloseTo(durationSec, 9);
      let signal = 0;
      let error = 0;
      for (let i = 0; i < pcm.length; i++) {
        signal += expected[i] ** 2;
        error += (pcm[i] - expected[i]) ** 2;
      }
      expect(10 * Math.log10(signal / error)).toBeGreaterThan(45); // the two filters differ only between 7.3 and 8 kHz
      const [got, want] = [melSpectrogram(pcm), melSpectrogram(expected)];
      expect(got.frames).toBe(want.frames);
      const worst = (from: number, to: number) => {
        let m = 0;
        for (let i = from * got.frames; i < to * got.frames; i++) m = Math.max(m, Math.abs(got.data[i] - want.data[i]));
        return m;
      };
      expect(worst(0, 79)).toBeLessThan(0.002); // of the mel's 8-unit range ([-4, 4])
      expect(worst(79, 80)).toBeLessThan(0.05); // the top band (up to 7.6 kHz) reaches into the filters' transition
    });

    it('should leave a 22.05 kHz WAV longer than the in-process limit to ffprobe and ffmpeg', async () => {
      const file = path.join(dir, 'long.wav');
      await fs.writeFile(file, wavFile(new Int16Array(22050 * (MAX_RESAMPLED_SECONDS + 1)), { rate: 22050 }));
      probeSpy.mockClear();
      const probe = await sut.probe(file);
      expect(probe.plainWav).toBeUndefined();
      expect(probeSpy).toHaveBeenCalledTimes(1);
      expect(probe.durationSec).toBeCloseTo(MAX_RESAMPLED_SECONDS + 1, 3);
    });
  });
});
