import { Command } from 'commander';
import { AudioService } from '../audio/audio.service';
import { DEFAULT_FPS, MEL_WINDOW, N_MELS } from '../audio/audio.constants';
import { MelSpectrogram } from '../audio/mel-spectrogram';
import { fillWindows, frameCount } from '../audio/mel-windows';
import { writeNpy, writeNpyAtomic } from '../audio/npy';
import { loadConfig } from '../config/config';
import { FfmpegRunner } from '../media/ffmpeg-runner';
import { EXIT_OK, parseNumberOption, reportError } from './cli-util';
import { assertWritableDirFor } from '../common/fs-util';

export interface MelCommandDeps {
  /** builds the AudioService (default: from loadConfig()) */
  createAudio?: () => AudioService;
  /** where the one-line error goes (default: stderr) */
  writeError?: (s: string) => void;
}

interface MelOpts {
  out: string;
  windows?: boolean;
  fps: number;
}

/** Windows per chunk written to the .npy: bounded memory whatever the audio length. */
const WINDOW_CHUNK = 256;

/** `lipsync mel <audio> --out mel.npy [--windows] [--fps 25]`: exit 0, or 2 with `error CODE: message`. */
export function registerMelCommand(program: Command, deps: MelCommandDeps = {}): Command {
  return program
    .command('mel')
    .description('write the Wav2Lip mel spectrogram [80,T] (or the per-frame windows [N,1,80,16]) as float32 .npy')
    .argument('<audio-file>', 'any audio (or video with audio) that ffmpeg reads')
    .requiredOption('--out <file.npy>', 'output .npy file (written atomically)')
    .option('--windows', 'write the model windows [N,1,80,16] instead of the spectrogram')
    .option('--fps <n>', 'video frame rate for --windows', parseNumberOption('--fps', 1, 120), DEFAULT_FPS)
    .action(async (audioFile: string, opts: MelOpts) => {
      try {
        await assertWritableDirFor(opts.out);
        const audio = deps.createAudio ? deps.createAudio() : defaultAudioService();
        const { mel } = await audio.loadMel(audioFile);
        await writeMelNpy(opts.out, mel, opts.windows ? opts.fps : null);
        process.exitCode = EXIT_OK;
      } catch (err) {
        process.exitCode = reportError(err, deps.writeError);
      }
    });
}

function defaultAudioService(): AudioService {
  const config = loadConfig();
  return new AudioService(new FfmpegRunner({ ffmpegPath: config.ffmpegPath, ffprobePath: config.ffprobePath }), {
    maxAudioSeconds: config.limits.maxAudioSeconds,
  });
}

/** The spectrogram (fps null) or its windows at `fps`, written atomically. */
export async function writeMelNpy(out: string, mel: MelSpectrogram, fps: number | null): Promise<void> {
  if (fps === null) return writeNpy(out, mel.data, [N_MELS, mel.frames]);
  const n = frameCount(mel.frames, fps);
  return writeNpyAtomic(out, [n, 1, N_MELS, MEL_WINDOW], windowChunks(mel, n, fps));
}

function* windowChunks(mel: MelSpectrogram, n: number, fps: number): Generator<Float32Array> {
  const buf = new Float32Array(WINDOW_CHUNK * N_MELS * MEL_WINDOW);
  for (let from = 0; from < n; from += WINDOW_CHUNK) {
    const to = Math.min(n, from + WINDOW_CHUNK);
    // the chunk is written before the generator resumes, so the buffer can be reused
    yield fillWindows(mel, from, to, fps, buf).subarray(0, (to - from) * N_MELS * MEL_WINDOW);
  }
}
