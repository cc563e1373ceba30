import { promises as fs } from 'fs';
import * as path from 'path';
import { AudioService } from '../../../gateway/src/audio/audio.service';
import { melFilterbankDense } from '../../../gateway/src/audio/mel-filterbank';
import { melSpectrogram } from '../../../gateway/src/audio/mel-spectrogram';
import { frameCount, windowStart } from '../../../gateway/src/audio/mel-windows';
import { FfmpegRunner } from '../../../gateway/src/media/ffmpeg-runner';
import { maxAbsDiff, MEL_REFERENCE, parseNpy, python, referenceMel, speech16k, tempDir } from '../../helpers/audio-clips';

describe('mel spectrogram vs the independent python reference (librosa 0.7.0 pipeline)', () => {
  let dir: string;
  let pcm: Float32Array;

  beforeAll(async () => {
    dir = await tempDir('mel-ref-');
    const wav = await speech16k(dir, 'Reflect padding matters at the edges, said the reference.');
    pcm = await new AudioService(new FfmpegRunner()).decode(wav);
  });
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it('should match on real speech within 1e-3', async () => {
    expect(pcm.length / 16000).toBeGreaterThan(2);
    const ours = melSpectrogram(pcm);
    const ref = await referenceMel(dir, pcm);
    expect(ref.shape).toEqual([80, ours.frames]);
    expect(maxAbsDiff(ours.data, ref.data)).toBeLessThanOrEqual(1e-3);
  });

  it.each([1, 2, 150, 399, 400, 401, 1000, 3333])('should match on a %i-sample signal (reflect padding edge cases)', async (n) => {
    const x = pcm.subarray(8000, 8000 + n);
    const ours = melSpectrogram(x);
    const ref = await referenceMel(dir, x, `short${n}`);
    expect(ref.shape).toEqual([80, ours.frames]);
    expect(maxAbsDiff(ours.data, ref.data)).toBeLessThanOrEqual(1e-3);
  });

  it('should build the same [80, 401] filterbank', async () => {
    const file = path.join(dir, 'fb.npy');
    await python([MEL_REFERENCE, 'filterbank', file]);
    const ref = parseNpy(await fs.readFile(file));
    expect(ref.shape).toEqual([80, 401]);
    const ours = melFilterbankDense({ sampleRate: 16000, nFft: 800, nMels: 80, fmin: 55, fmax: 7600 });
    expect(maxAbsDiff(ours, ref.data)).toBeLessThan(1e-7);
  });

  it.each([25, 30])(
    'should give the window count and starts of python for the original loop and the gateway rule (%i fps)',
    async (fps) => {
      for (const T of [16, 41, 195, 1001]) {
        const ref = JSON.parse(await python([MEL_REFERENCE, 'windows', String(T), String(fps)])) as {
          original: number[];
          gateway: number[];
          count: number;
        };
        const n = frameCount(T, fps);
        expect(n).toBe(ref.count);
        const ours = Array.from({ length: n }, (_, i) => windowStart(i, T, fps));
        expect(ours).toEqual(ref.gateway);
        expect(ours.slice(0, ref.original.length)).toEqual(ref.original);
      }
    },
  );
});
