import { HOP, MEL_FPS, MEL_WINDOW, N_FFT } from '../audio/audio.constants';

/**
 * Closed mouth in silence (issue 15 item 5). A frame whose audio window is silent shows the source
 * mouth (no paste), so pauses do not mumble; the paste fades out and back in over a few frames.
 *
 * - The audio window of frame i is the PCM its Wav2Lip mel window reads: the 16 mel columns from
 *   int(i·80/fps), each an 800-sample STFT frame centred on its hop (≈ 250 ms at 16 kHz).
 * - Its level is the mean power in dBFS (full scale = ±1.0). A frame turns silent below
 *   `thresholdDb` and turns back to speech only above `thresholdDb + hysteresisDb`, so a level
 *   hovering at the threshold does not flicker.
 * - Weights: 1 = the model's mouth, 0 = the source. Silent frames get 1 − d/(ramp+1), d being the
 *   distance in frames to the nearest speech frame, so the fade lies inside the pause and speech
 *   frames always show the model.
 */
export interface SilenceOptions {
  /** dBFS below which a frame's window is silent (default −40) */
  thresholdDb?: number;
  /** dB above the threshold a silent stretch needs to end (default 6) */
  hysteresisDb?: number;
  /** frames the paste takes to fade out / in at a pause's edges (default: 0.12 s worth, at least 1) */
  rampFrames?: number;
}

export const DEFAULT_SILENCE_THRESHOLD_DB = -40;
export const DEFAULT_SILENCE_HYSTERESIS_DB = 6;
const DEFAULT_RAMP_SECONDS = 0.12;
const LEVEL_FLOOR_DB = -120; // digital silence (all zeros) instead of −∞

/** Mean power in dBFS of each frame's audio window (16 kHz PCM), for `total` frames at `fps`. */
export function frameLevelsDb(pcm: Float32Array, total: number, fps: number): Float32Array {
  if (!(fps > 0)) throw new RangeError(`fps must be positive, got ${fps}`);
  const levels = new Float32Array(total);
  const melFrames = Math.floor(pcm.length / HOP) + 1; // librosa's centred STFT frame count
  for (let i = 0; i < total; i++) {
    // same start column as mel-windows.ts windowStart (clamped to the last full window)
    const col = Math.max(0, Math.min(Math.trunc((i * MEL_FPS) / fps), melFrames - MEL_WINDOW));
    const from = Math.max(0, col * HOP - N_FFT / 2);
    const to = Math.min(pcm.length, (col + MEL_WINDOW - 1) * HOP + N_FFT / 2);
    let sum = 0;
    for (let k = from; k < to; k++) sum += pcm[k] * pcm[k];
    const power = to > from ? sum / (to - from) : 0;
    levels[i] = power > 0 ? Math.max(LEVEL_FLOOR_DB, 10 * Math.log10(power)) : LEVEL_FLOOR_DB;
  }
  return levels;
}

/** 1 where the frame is silent, with hysteresis: enter below threshold, leave above threshold + hysteresis. */
export function silenceMask(
  levelsDb: Float32Array,
  thresholdDb = DEFAULT_SILENCE_THRESHOLD_DB,
  hysteresisDb = DEFAULT_SILENCE_HYSTERESIS_DB,
): Uint8Array {
  if (!(hysteresisDb >= 0)) throw new RangeError(`hysteresis must be ≥ 0 dB, got ${hysteresisDb}`);
  const mask = new Uint8Array(levelsDb.length);
  let silent = false;
  for (let i = 0; i < levelsDb.length; i++) {
    const l = levelsDb[i];
    if (silent) silent = l <= thresholdDb + hysteresisDb;
    else silent = l < thresholdDb;
    mask[i] = silent ? 1 : 0;
  }
  return mask;
}

/** Paste weights from a silence mask: 1 for speech, fading to 0 inside pauses over `rampFrames`. */
export function pasteWeights(mask: Uint8Array, rampFrames: number): Float32Array {
  if (!(Number.isInteger(rampFrames) && rampFrames >= 0))
    throw new RangeError(`ramp must be a whole number of frames ≥ 0, got ${rampFrames}`);
  const n = mask.length;
  // distance to the nearest speech frame, from both sides (Infinity when there is none)
  const dist = new Float64Array(n).fill(Infinity);
  let last = -Infinity;
  for (let i = 0; i < n; i++) {
    if (!mask[i]) last = i;
    dist[i] = i - last;
  }
  last = Infinity;
  for (let i = n - 1; i >= 0; i--) {
    if (!mask[i]) last = i;
    dist[i] = Math.min(dist[i], last - i);
  }
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) w[i] = Math.max(0, 1 - dist[i] / (rampFrames + 1));
  return w;
}

/** Per-frame paste weights for a render: levels → silence mask → faded weights. */
export function silenceWeights(pcm: Float32Array, total: number, fps: number, o: SilenceOptions = {}): Float32Array {
  const ramp = o.rampFrames ?? Math.max(1, Math.round(DEFAULT_RAMP_SECONDS * fps));
  const mask = silenceMask(
    frameLevelsDb(pcm, total, fps),
    o.thresholdDb ?? DEFAULT_SILENCE_THRESHOLD_DB,
    o.hysteresisDb ?? DEFAULT_SILENCE_HYSTERESIS_DB,
  );
  return pasteWeights(mask, ramp);
}
