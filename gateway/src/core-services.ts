import * as fs from 'fs';
import * as path from 'path';
import { NestFactory } from '@nestjs/core';
import type { AudioService } from './audio/audio.service';
import { CORE_SERVICES } from './common/tokens';
import type { AppConfig } from './config/config';
import type { AvatarService } from './face/avatar.service';
import type { InferenceBackend } from './inference/inference-backend';
import type { ModelProvenance } from './inference/model-provenance';
import type { FfmpegRunner } from './media/ffmpeg-runner';
import type { VideoEncoder } from './render/encoder-args';
import type { Renderer } from './render/render.types';
import type { SpeechSynthesizer } from './speech/speech-synthesizer';

/**
 * Everything a front door needs: the Nest app provides it as CORE_SERVICES (CoreModule), and the
 * CLI gets the same providers from a standalone application context, so there is one pipeline
 * with two front doors (architecture.md §5).
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
  /** the served model: name, origin, licence, precision (from its stamp) */
  model: ModelProvenance;
  /** a line to show users when the served model is the seeded demo model (or undefined) */
  modelNotice(): string | undefined;
  close(): Promise<void>;
}

/**
 * The CLI's entry: builds CoreModule in a Nest application context (no HTTP) and returns its
 * services; close() closes the context, which runs the modules' shutdown hooks (backend, detector).
 */
export async function createCoreServices(config: AppConfig): Promise<CoreServices> {
  // Loaded lazily: core.module imports this file for the CoreServices type and demoModelNotice.
  const { CoreModule } = await import('./core.module');
  // abortOnError false: a start-up failure (model missing, bad encoder) reaches the caller as an error, not process.abort().
  const ctx = await NestFactory.createApplicationContext(CoreModule.forRoot(config), { abortOnError: false });
  const services = ctx.get<CoreServices>(CORE_SERVICES);
  return { ...services, close: () => ctx.close() };
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
