/** Avatar frame for output frame i of a clip with `frameCount` frames: loop or ping-pong (…, n−2, n−1, n−2, …, 1, 0, 1, …). */
export function avatarFrameIndex(i: number, frameCount: number, mode: 'loop' | 'pingpong' = 'loop'): number {
  if (frameCount <= 1 || i <= 0) return 0;
  if (mode === 'loop') return i % frameCount;
  const period = 2 * frameCount - 2;
  const p = i % period;
  return p < frameCount ? p : period - p;
}
