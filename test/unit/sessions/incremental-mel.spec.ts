import { fillWindows, frameCount } from '../../../gateway/src/audio/mel-windows';
import { melSpectrogram } from '../../../gateway/src/audio/mel-spectrogram';
import { columnsFor, IncrementalMel } from '../../../gateway/src/sessions/incremental-mel';

/** Speech-like test signal: a few sines with a slow envelope and some deterministic noise. */
function signal(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const env = 0.5 + 0.5 * Math.sin(i / 1500);
    out[i] = env * (0.3 * Math.sin(i * 0.05) + 0.2 * Math.sin(i * 0.31)) + 0.05 * (s / 2 ** 31 - 0.5);
  }
  return out;
}

function feed(sut: IncrementalMel, pcm: Float32Array, chunk: (k: number) => number): void {
  for (let o = 0, k = 0; o < pcm.length; k++) {
    const n = Math.min(chunk(k), pcm.length - o);
    sut.push(pcm.subarray(o, o + n));
    o += n;
  }
}

describe(IncrementalMel.name, () => {
  it('should give every frame exactly the offline Wav2Lip window, whatever the chunking', () => {
    const pcm = signal(16_000 * 3 + 123);
    const fps = 25;
    const offline = melSpectrogram(pcm);
    const frames = frameCount(offline.frames, fps);
    const expected = fillWindows(offline, 0, frames, fps);
    for (const chunk of [(k: number) => 1 + ((k * 7919) % 977), () => 320, () => 16_000 * 4]) {
      const sut = new IncrementalMel(fps);
      feed(sut, pcm, chunk);
      sut.finish();
      const got = new Float32Array(expected.length);
      for (let i = 0; i < frames; i++) sut.fillWindow(i, got, i * 1280);
      expect(Buffer.from(got.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
    }
  });

  it('should say a frame is ready only once the 200 ms of audio after it has arrived', () => {
    const sut = new IncrementalMel(25);
    // frame 0 needs columns 0..15: column 15's frame ends at 15·200 + 400 = 3400 samples
    sut.push(new Float32Array(3399));
    expect(sut.frameReady(0)).toBe(false);
    sut.push(new Float32Array(1));
    expect(sut.frameReady(0)).toBe(true);
    expect(sut.frameReady(1)).toBe(false); // frame 1 starts at column int(80/25) = 3 → needs 4000 samples
    sut.push(new Float32Array(600));
    expect(sut.frameReady(1)).toBe(true);
    expect(columnsFor(599)).toBe(0);
    expect(columnsFor(600)).toBe(2);
  });

  it('should match the offline windows after releasing old columns as it goes', () => {
    const pcm = signal(16_000 * 2, 7);
    const fps = 30; // 533⅓ samples a frame: uneven window starts
    const offline = melSpectrogram(pcm);
    const frames = frameCount(offline.frames, fps);
    const expected = fillWindows(offline, 0, frames, fps);
    const sut = new IncrementalMel(fps);
    const got = new Float32Array(expected.length);
    let next = 0;
    for (let o = 0; o < pcm.length; o += 500) {
      sut.push(pcm.subarray(o, Math.min(pcm.length, o + 500)));
      while (next < frames && sut.frameReady(next)) sut.fillWindow(next, got, 1280 * next++);
      sut.releaseBefore(next);
    }
    sut.finish();
    while (next < frames) sut.fillWindow(next, got, 1280 * next++);
    expect(Buffer.from(got.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
  });

  it('should handle a stream shorter than one window like the offline code (padded with the floor)', () => {
    const pcm = signal(1000);
    const offline = melSpectrogram(pcm);
    const expected = fillWindows(offline, 0, 1, 25);
    const sut = new IncrementalMel(25);
    sut.push(pcm);
    sut.finish();
    const got = new Float32Array(1280);
    sut.fillWindow(0, got);
    expect(Array.from(got)).toEqual(Array.from(expected));
  });
});
