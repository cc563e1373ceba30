import { SAMPLE_RATE } from './audio.constants';
import { melSpectrogram } from './mel-spectrogram';

export interface MelBenchResult {
  audioSeconds: number;
  /** median wall time of one melSpectrogram call over 60 s of audio */
  ms: number;
  /** audio seconds per wall second */
  realTimeFactor: number;
  melFrames: number;
  runs: number;
}

/** Speech-like synthetic signal: a few harmonics with a slow amplitude envelope and a little noise. */
function syntheticAudio(seconds: number): Float32Array {
  const pcm = new Float32Array(seconds * SAMPLE_RATE);
  let seed = 12345;
  for (let i = 0; i < pcm.length; i++) {
    const t = i / SAMPLE_RATE;
    seed = (seed * 1103515245 + 12345) >>> 0;
    const noise = (seed / 2 ** 32 - 0.5) * 0.02;
    const env = 0.5 + 0.5 * Math.sin(2 * Math.PI * 3 * t);
    pcm[i] =
      env * (0.3 * Math.sin(2 * Math.PI * 140 * t) + 0.15 * Math.sin(2 * Math.PI * 280 * t) + 0.05 * Math.sin(2 * Math.PI * 2100 * t)) +
      noise;
  }
  return pcm;
}

/** Times melSpectrogram on 60 s of audio (one core, after a warm-up run). Target ≥ 500× real time. */
export async function benchMel(runs = 5, audioSeconds = 60): Promise<MelBenchResult> {
  const pcm = syntheticAudio(audioSeconds);
  const melFrames = melSpectrogram(pcm).frames; // warm-up: JIT and tables
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    melSpectrogram(pcm);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    await new Promise((resolve) => setImmediate(resolve));
  }
  times.sort((a, b) => a - b);
  const ms = times[Math.floor(times.length / 2)];
  return { audioSeconds, ms, realTimeFactor: (audioSeconds * 1000) / ms, melFrames, runs };
}

if (require.main === module) {
  void benchMel().then((r) => {
    process.stdout.write(
      `mel: ${r.audioSeconds} s of audio in ${r.ms.toFixed(1)} ms = ${r.realTimeFactor.toFixed(0)}× real time (median of ${r.runs})\n`,
    );
  });
}
