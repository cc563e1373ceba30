/**
 * A job's maximum duration (issue 10, item 6): JOB_TIMEOUT_SECONDS when set, else scaled with the
 * audio's length, so a stalled ffmpeg or decode cannot hold a job slot for ever. Pure.
 */
export const DEADLINE_BASE_SECONDS = 120;
/** render seconds allowed per second of audio (the CPU demo path renders a few times slower than real time) */
export const DEADLINE_PER_AUDIO_SECOND = 10;
/** assumed length when the probe could not tell */
const UNKNOWN_AUDIO_SECONDS = 600;

export function jobDeadlineMs(configuredSeconds: number | undefined, audioSeconds: number | null | undefined): number {
  if (configuredSeconds && configuredSeconds > 0) return Math.round(configuredSeconds * 1000);
  const audio =
    typeof audioSeconds === 'number' && Number.isFinite(audioSeconds) && audioSeconds >= 0 ? audioSeconds : UNKNOWN_AUDIO_SECONDS;
  return Math.round((DEADLINE_BASE_SECONDS + DEADLINE_PER_AUDIO_SECOND * audio) * 1000);
}

/** Aborts `abort` once `ms` have passed; `passed()` tells whether the deadline is why it aborted. */
export function armDeadline(abort: AbortController, ms: number): { passed: () => boolean; clear: () => void } {
  let passed = false;
  const timer = setTimeout(() => {
    passed = true;
    abort.abort();
  }, ms);
  return { passed: () => passed, clear: () => clearTimeout(timer) };
}
