import { fillWindows, frameCount, windowStart, WINDOW_SIZE, allWindows } from '../../../gateway/src/audio/mel-windows';

/** inference.py's loop, transcribed: starts while start+16 <= T, then T−16 once. */
function originalStarts(T: number, fps: number): number[] {
  const mult = 80 / fps;
  const starts: number[] = [];
  for (let i = 0; ; i++) {
    const start = Math.trunc(i * mult);
    if (start + 16 > T) {
      starts.push(T - 16);
      return starts;
    }
    starts.push(start);
  }
}

function fakeMel(frames: number) {
  // each cell encodes its position, so any layout slip shows
  const data = new Float32Array(80 * frames);
  for (let b = 0; b < 80; b++) for (let t = 0; t < frames; t++) data[b * frames + t] = b * 10000 + t;
  return { data, frames };
}

describe('frameCount / windowStart', () => {
  it('should start windows at 0,3,6,9,12,16,19 at 25 fps', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((i) => windowStart(i, 1000, 25))).toEqual([0, 3, 6, 9, 12, 16, 19]);
  });

  it.each([25, 30])('should agree with the original loop for every frame it makes (%i fps)', (fps) => {
    for (const T of [16, 17, 40, 81, 195, 333, 1000, 4801]) {
      const orig = originalStarts(T, fps);
      const n = frameCount(T, fps);
      expect(n).toBe(Math.ceil((T * fps) / 80));
      expect(n).toBeGreaterThanOrEqual(orig.length);
      orig.forEach((s, i) => expect(windowStart(i, T, fps)).toBe(s));
      for (let i = orig.length; i < n; i++) expect(windowStart(i, T, fps)).toBe(T - 16);
    }
  });

  it('should start every window at 0 when the mel is shorter than 16 columns', () => {
    expect(frameCount(9, 25)).toBe(3);
    expect([0, 1, 2].map((i) => windowStart(i, 9, 25))).toEqual([0, 0, 0]);
  });

  it('should refuse a non-positive fps', () => {
    expect(() => frameCount(100, 0)).toThrow(RangeError);
  });
});

describe('fillWindows', () => {
  it('should lay out [N,1,80,16] as mel[b, start_i + c]', () => {
    const mel = fakeMel(100);
    const out = allWindows(mel, 25);
    const n = frameCount(100, 25);
    expect(out.length).toBe(n * WINDOW_SIZE);
    for (const i of [0, 1, 5, n - 1]) {
      const s = windowStart(i, 100, 25);
      for (const b of [0, 1, 79]) for (const c of [0, 7, 15]) expect(out[(i * 80 + b) * 16 + c]).toBe(b * 10000 + s + c);
    }
  });

  it('should give the same windows for a range as for the whole', () => {
    const mel = fakeMel(333);
    const all = allWindows(mel, 30);
    const buf = new Float32Array(7 * WINDOW_SIZE);
    const part = fillWindows(mel, 20, 27, 30, buf);
    expect(part).toBe(buf);
    expect(part).toEqual(all.subarray(20 * WINDOW_SIZE, 27 * WINDOW_SIZE));
  });

  it('should pad short mels on the right with −4', () => {
    const mel = fakeMel(9);
    const out = fillWindows(mel, 0, 1, 25);
    expect(out[3 * 16 + 8]).toBe(3 * 10000 + 8);
    expect(out[3 * 16 + 9]).toBe(-4);
    expect(out[79 * 16 + 15]).toBe(-4);
  });

  it('should refuse ranges outside [0, N) and too-small buffers', () => {
    const mel = fakeMel(100);
    const n = frameCount(100, 25);
    expect(() => fillWindows(mel, 0, n + 1, 25)).toThrow(RangeError);
    expect(() => fillWindows(mel, 3, 2, 25)).toThrow(RangeError);
    expect(() => fillWindows(mel, 0, 2, 25, new Float32Array(WINDOW_SIZE))).toThrow(RangeError);
  });
});
