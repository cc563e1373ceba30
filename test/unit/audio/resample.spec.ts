import { RESAMPLED_RATES, resampledLength, resampleTo16k, STOPBAND_DB } from '../../../gateway/src/audio/resample';

const sine = (hz: number, rate: number, n: number, phase = 0.3) =>
  Float32Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * hz * i) / rate + phase));

/** RMS of `y` against `want(j)` over the interior (away from the zero-padded ends). */
function rmsError(y: Float32Array, want: (j: number) => number, margin = 400): number {
  let se = 0;
  let n = 0;
  for (let j = margin; j < y.length - margin; j++) {
    se += (y[j] - want(j)) ** 2;
    n++;
  }
  return Math.sqrt(se / n);
}

describe('resampleTo16k (in-process resampler for plain WAVs)', () => {
  it('should give as many samples as ffmpeg gives for the same input (round(n·16000/rate))', async () => {
    // counts measured with ffmpeg -af aresample=16000:resampler=soxr:precision=28 on 22.05 kHz input
    const ffmpeg: [number, number][] = [
      [22050, 16000],
      [22051, 16001],
      [44100, 32000],
      [10000, 7256],
      [93851, 68100],
      [12345, 8958],
      [100, 73],
    ];
    for (const [n, out] of ffmpeg) expect(resampledLength(n, 22050)).toBe(out);
    expect((await resampleTo16k(new Float32Array(12345), 22050)).length).toBe(8958);
    expect(resampledLength(48000, 48000)).toBe(16000);
    expect(resampledLength(0, 44100)).toBe(0);
  });

  it('should pass 16 kHz through untouched and refuse a rate it has no filter for', async () => {
    const x = sine(440, 16000, 100);
    expect(await resampleTo16k(x, 16000)).toBe(x);
    await expect(resampleTo16k(x, 11025)).rejects.toThrow(RangeError);
  });

  it('should let the event loop run between slices and stop with CANCELLED when aborted', async () => {
    const x = sine(440, 22050, 22050 * 5);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const y = await resampleTo16k(x, 22050);
    clearInterval(timer);
    expect(y.length).toBe(80000);
    expect(ticks).toBeGreaterThan(0); // a timer fired while it ran: the 5 s were not one blocking call
    const ac = new AbortController();
    const pending = resampleTo16k(x, 22050, ac.signal);
    ac.abort();
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it.each(RESAMPLED_RATES.map((r) => [r]))('should keep DC and in-band tones at %i Hz, in time (no delay)', async (rate) => {
    const n = rate; // one second
    const dc = await resampleTo16k(new Float32Array(n).fill(0.5), rate);
    expect(rmsError(dc, () => 0.5)).toBeLessThan(1e-6);
    for (const hz of [100, 1000, 4000, 7000]) {
      const y = await resampleTo16k(sine(hz, rate, n), rate);
      // the same tone sampled at 16 kHz at the same instants: amplitude and phase kept
      expect(rmsError(y, (j) => Math.sin((2 * Math.PI * hz * j) / 16000 + 0.3))).toBeLessThan(1e-4);
    }
  });

  it.each(RESAMPLED_RATES.map((r) => [r]))('should remove what would fold back into the band at %i Hz', async (rate) => {
    for (const hz of [8000, 9000, Math.min(rate / 2 - 200, 15000)]) {
      const y = await resampleTo16k(sine(hz, rate, rate), rate);
      const db = 20 * Math.log10(rmsError(y, () => 0) / Math.SQRT1_2);
      expect(db).toBeLessThan(-(STOPBAND_DB - 15)); // a Kaiser filter's first sidelobes sit near the design value
    }
  });
});
