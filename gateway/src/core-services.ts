import * as fs from 'fs';
import * as path from 'path';
import { AudioService } from './audio/audio.service';
import { frameCount, fillWindows } from './audio/mel-windows';
import { melSpectrogram } from './audio/mel-spectrogram';
import type { AppConfig } from './config/config';
import { AvatarService } from './face/avatar.service';
import { FaceApiDetector } from './face/face-detector';
import { avatarFrameIndex } from './face/frame-index';
import { ImageAdapter } from './face/image.adapter';
import { createBackend } from './inference/backend-factory';
import type { InferenceBackend } from './inference/inference-backend';
import { FfmpegRunner } from './media/ffmpeg-runner';
import { chooseEncoder } from './render/encoder-probe';
import type { VideoEncoder } from './render/encoder-args';
import { AudioPort, AvatarPort, RenderPipeline } from './render/render-pipeline';
import type { PipelineObserver, Renderer } from './render/render.types';
import { speechFromConfig } from './speech/espeak-synthesizer';
import type { SpeechSynthesizer } from './speech/speech-synthesizer';

/**
 * Everything a front door needs, built once: the CLI and the Nest app both call this, so there is
 * one pipeline with two front doors (architecture.md §5).
 */
export interface CoreServices {
  config: AppConfig;
  runner: FfmpegRunner;
  audio: AudioService;
  avatars: AvatarService;
  backend: InferenceBackend;
  speech: SpeechSynthesizer;
  renderer: Renderer;
  encoder: { name: VideoEncoder };
  /** a line to show users when the served model is the seeded demo model (or undefined) */
  modelNotice(): string | undefined;
  close(): Promise<void>;
}

export interface CoreOverrides {
  backend?: InferenceBackend;
  speech?: SpeechSynthesizer;
  observer?: PipelineObserver;
}

export async function createCoreServices(config: AppConfig, overrides: CoreOverrides = {}): Promise<CoreServices> {
  const runner = new FfmpegRunner({ ffmpegPath: config.ffmpegPath, ffprobePath: config.ffprobePath });
  const audio = new AudioService(runner, { maxAudioSeconds: config.limits.maxAudioSeconds });
  const detector = new FaceApiDetector();
  const avatars = new AvatarService(runner, new ImageAdapter(), detector, {
    cacheDir: path.join(config.dataDir, 'avatar-cache'),
    maxImagePixels: config.limits.maxImagePixels,
    maxVideoSeconds: config.limits.maxVideoSeconds,
  });
  const backend = overrides.backend ?? createBackend(config);
  const speech = overrides.speech ?? speechFromConfig(config);
  // Encoder probe and model load are independent start-up costs: do them together.
  const [encoder] = await Promise.all([chooseEncoder(runner, config.encoder), backend.start()]);

  const audioPort: AudioPort = {
    load: (p, signal) => audio.load(p, { signal }),
    mel: (pcm) => melSpectrogram(pcm),
    frameCount,
    fillWindows: (mel, from, to, fps, out) => void fillWindows(mel, from, to, fps, out),
  };
  const avatarPort: AvatarPort = {
    prepare: (p, o) => avatars.prepare(p, o),
    frameIndex: avatarFrameIndex,
  };
  const renderer = new RenderPipeline(
    runner,
    audioPort,
    avatarPort,
    backend,
    { defaultBatchSize: config.batchSize, encoder, inferDeadlineMs: config.backend === 'triton' ? config.triton.deadlineMs : undefined },
    overrides.observer,
  );
  return {
    config,
    runner,
    audio,
    avatars,
    backend,
    speech,
    renderer,
    encoder: { name: encoder },
    modelNotice: () => (config.backend === 'onnx' ? demoModelNotice(config.modelPath) : undefined),
    close: async () => {
      await Promise.all([backend.close(), detector.close()]);
    },
  };
}

/** Reads the SOURCE stamp that scripts/setup-model.sh writes beside the model. */
export function demoModelNotice(modelPath: string): string | undefined {
  let source: string;
  try {
    source = fs.readFileSync(path.join(path.dirname(modelPath), 'SOURCE'), 'utf8');
  } catch {
    return undefined;
  }
  if (!/random-seed=/.test(source)) return undefined;
  return (
    'note: using the DEMO model (Wav2Lip architecture with seeded random weights): the mouth moves but the motion is meaningless.\n' +
    '      For real lip sync build the model from an official checkpoint: WAV2LIP_CHECKPOINT=/path/wav2lip_gan.pth bash scripts/setup-model.sh\n' +
    '      (the official weights are licensed for non-commercial use only; they were trained on LRS2).'
  );
}
