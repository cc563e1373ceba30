/**
 * Wav2Lip's audio hyper-parameters (upstream `hparams.py`, wav2lip.md §3). The mel front end must
 * reproduce librosa 0.7.0 with exactly these numbers, so they are constants, not configuration.
 */
export const SAMPLE_RATE = 16_000;
export const N_FFT = 800;
export const HOP = 200;
export const WIN = 800;
export const N_MELS = 80;
export const FMIN = 55;
export const FMAX = 7600;
export const PREEMPHASIS = 0.97;
export const MIN_LEVEL_DB = -100;
export const REF_LEVEL_DB = 20;
export const MAX_ABS_VALUE = 4;
/** amplitude floor of `_amp_to_db`: 10^(min_level_db/20) */
export const MIN_AMPLITUDE = 1e-5;
/** number of FFT bins kept by the real STFT (n_fft/2 + 1) */
export const N_BINS = N_FFT / 2 + 1;
/** mel frames per second (sample rate / hop) */
export const MEL_FPS = SAMPLE_RATE / HOP;
/** mel columns per model window (200 ms) */
export const MEL_WINDOW = 16;
/** value of a silent (or padded) mel cell: the bottom of the normalised range */
export const MEL_FLOOR = -MAX_ABS_VALUE;
export const DEFAULT_FPS = 25;
export const DEFAULT_MAX_AUDIO_SECONDS = 600;
