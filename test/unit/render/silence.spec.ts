import { frameLevelsDb, pasteWeights, silenceMask, silenceWeights } from '../../../gateway/src/render/silence';

const SR = 16_000;

/** 16 kHz PCM: a 440 Hz tone at `amp` for each [start, end) second range, zeros elsewhere. */
function pcmWith(seconds: number, tones: [number, number, number][]): Float32Array {
  const pcm = new Float32Array(Math.round(seconds * SR));
  for (const [from, to, amp] of tones) {
    for (let i = Math.round(from * SR); i < Math.round(to * SR); i++) pcm[i] = amp * Math.sin((2 * Math.PI * 440 * i) / SR);
  }
  return pcm;
}

describe('silence detection', () => {
  it('should measure each frame over the PCM its mel window reads', () => {
    // 0.5 full-scale sine: mean power 0.125 → −9.0 dBFS
    const levels = frameLevelsDb(pcmWith(2, [[0, 2, 0.5]]), 50, 25);
    for (let i = 2; i < 40; i++) expect(levels[i]).toBeCloseTo(-9.03, 1);
    // zeros are a finite floor, not −∞
    expect(frameLevelsDb(new Float32Array(SR), 25, 25).every((l) => l === -120)).toBe(true);
  });

  it('should see the window ahead of a frame: the frame 100 ms before speech starts is already speech', () => {
    const levels = frameLevelsDb(pcmWith(2, [[1, 2, 0.3]]), 50, 25);
    expect(levels[10]).toBe(-120); // 0.40 s: its window ends before 0.7 s
    expect(levels[22]).toBeGreaterThan(-40); // 0.88 s: its ~0.25 s window reaches into the tone
  });

  it('should enter silence below the threshold and leave it only above threshold + hysteresis', () => {
    const levels = Float32Array.from([-20, -41, -37, -35, -33, -45, -39, -20]);
    expect(Array.from(silenceMask(levels, -40, 6))).toEqual([0, 1, 1, 1, 0, 1, 1, 0]);
    // without hysteresis the same levels flicker
    expect(Array.from(silenceMask(levels, -40, 0))).toEqual([0, 1, 0, 0, 0, 1, 0, 0]);
  });

  it('should fade the paste out and back in inside a pause, keeping speech frames at 1', () => {
    const mask = Uint8Array.from([0, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
    const w = Array.from(pasteWeights(mask, 3)).map((x) => Math.round(x * 100) / 100);
    expect(w).toEqual([1, 0.75, 0.5, 0.25, 0, 0, 0.25, 0.5, 0.75, 1]);
    // a pause at the very start or end needs no fade from the model's mouth
    expect(Array.from(pasteWeights(Uint8Array.from([1, 1, 0]), 3)).map((x) => Math.round(x * 100) / 100)).toEqual([0.5, 0.75, 1]);
    expect(Array.from(pasteWeights(Uint8Array.from([1, 1, 1]), 2))).toEqual([0, 0, 0]);
    expect(Array.from(pasteWeights(Uint8Array.from([1, 0]), 0))).toEqual([0, 1]);
    expect(() => pasteWeights(mask, 1.5)).toThrow(RangeError);
  });

  it('should give speech with a silent second in the middle full weights around a run of zeros', () => {
    const pcm = pcmWith(3, [
      [0, 1, 0.3],
      [2, 3, 0.3],
    ]);
    const w = silenceWeights(pcm, 75, 25);
    // pause 1.0–2.0 s = frames 25–49; a frame's window reaches ~0.25 s ahead, and 3 frames fade each side
    expect(w.slice(0, 26).every((x) => x === 1)).toBe(true);
    expect(w.slice(29, 42).every((x) => x === 0)).toBe(true); // the heart of the pause: source mouth
    expect(w.slice(45).every((x) => x === 1)).toBe(true);
    // the fades are monotonic
    const fadeOut = Array.from(w.slice(20, 31));
    expect(fadeOut).toEqual([...fadeOut].sort((a, b) => b - a));
    expect(w.some((x) => x > 0 && x < 1)).toBe(true);
  });
});
