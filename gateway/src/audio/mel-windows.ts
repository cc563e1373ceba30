import { MEL_FLOOR, MEL_FPS, MEL_WINDOW, N_MELS } from './audio.constants';
import { MelSpectrogram } from './mel-spectrogram';

/**
 * Per-video-frame mel windows (wav2lip.md §4, gateway rule): frame i of the video gets the 16 mel
 * columns starting at min(int(i·80/fps), T−16), and there are ⌈T·fps/80⌉ frames so the video covers
 * the whole audio. For audio shorter than 16 mel columns the mel is treated as padded on the right
 * with −4 (the value of silence), so every window starts at 0 and nothing fails.
 */

/** Floats in one [1, 80, 16] window. */
export const WINDOW_SIZE = N_MELS * MEL_WINDOW;

function checkFps(fps: number): void {
  if (!(Number.isFinite(fps) && fps > 0)) throw new RangeError(`fps must be a positive number, got ${fps}`);
}

/** Number of video frames for T mel columns at `fps`: ⌈T·fps/80⌉. */
export function frameCount(melFrames: number, fps: number): number {
  checkFps(fps);
  // T·fps/80 is one correctly rounded division, exactly what Python computes for math.ceil(T*fps/80)
  return Math.ceil((melFrames * fps) / MEL_FPS);
}

/** First mel column of frame i's window: min(int(i·80/fps), T−16), never below 0 (short audio). */
export function windowStart(i: number, melFrames: number, fps: number): number {
  checkFps(fps);
  // Python's int(i*80/fps): truncation of the same IEEE double quotient
  const start = Math.trunc((i * MEL_FPS) / fps);
  return Math.max(0, Math.min(start, melFrames - MEL_WINDOW));
}

/**
 * Writes the windows of frames [from, to) as [to−from, 1, 80, 16] float32 into `out` (allocated if
 * absent) and returns it: out[((i−from)·80 + b)·16 + c] = mel[b, start_i + c] (−4 beyond the end).
 * Memory is proportional to the range, so batches can be built lazily.
 */
export function fillWindows(mel: MelSpectrogram, fromFrame: number, toFrame: number, fps: number, out?: Float32Array): Float32Array {
  const total = frameCount(mel.frames, fps);
  if (!Number.isInteger(fromFrame) || !Number.isInteger(toFrame) || fromFrame < 0 || toFrame < fromFrame || toFrame > total) {
    throw new RangeError(`frame range [${fromFrame}, ${toFrame}) is outside [0, ${total})`);
  }
  const count = toFrame - fromFrame;
  const buf = out ?? new Float32Array(count * WINDOW_SIZE);
  if (buf.length < count * WINDOW_SIZE) throw new RangeError(`output holds ${buf.length} floats, needs ${count * WINDOW_SIZE}`);
  const T = mel.frames;
  const src = mel.data;
  for (let i = fromFrame; i < toFrame; i++) {
    const start = windowStart(i, T, fps);
    const base = (i - fromFrame) * WINDOW_SIZE;
    const valid = Math.min(MEL_WINDOW, T - start);
    for (let b = 0; b < N_MELS; b++) {
      const row = b * T + start;
      const dst = base + b * MEL_WINDOW;
      for (let c = 0; c < valid; c++) buf[dst + c] = src[row + c];
      for (let c = valid; c < MEL_WINDOW; c++) buf[dst + c] = MEL_FLOOR;
    }
  }
  return buf;
}

/** All windows [N, 1, 80, 16] at once (N = frameCount); prefer fillWindows ranges for long audio. */
export function allWindows(mel: MelSpectrogram, fps: number): Float32Array {
  return fillWindows(mel, 0, frameCount(mel.frames, fps), fps);
}
