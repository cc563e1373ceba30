import { Module } from '@nestjs/common';
import { AudioModule } from '../audio/audio.module';
import type { AudioProbe } from '../audio/audio-args';
import { AudioService } from '../audio/audio.service';
import { melSpectrogram } from '../audio/mel-spectrogram';
import { fillWindows, frameCount } from '../audio/mel-windows';
import { APP_CONFIG, METRICS, MODEL_PROVENANCE, RENDER_PIPELINE, RENDERER, VIDEO_ENCODER } from '../common/tokens';
import type { AppConfig } from '../config/config';
import { AvatarService } from '../face/avatar.service';
import { AvatarsModule } from '../face/avatars.module';
import { avatarFrameIndex } from '../face/frame-index';
import { InferenceModule } from '../inference/inference.module';
import { INFERENCE_BACKEND, type InferenceBackend } from '../inference/inference-backend';
import type { ModelProvenance } from '../inference/model-provenance';
import { FfmpegRunner } from '../media/ffmpeg-runner';
import { pinnedFormatOf } from '../media/demuxer-allowlist';
import { MediaModule } from '../media/media.module';
import { sniffFile } from '../media/sniff-file';
import type { VideoEncoder } from './encoder-args';
import { chooseEncoder } from './encoder-probe';
import { AudioPort, AvatarPort, RenderPipeline } from './render-pipeline';
import type { PipelineObserver, Renderer } from './render.types';

function audioPort(audio: AudioService): AudioPort {
  return {
    pinned: async (p) => pinnedFormatOf((await sniffFile(p)).found) ?? undefined,
    probe: (p, signal) => audio.probe(p, { signal }),
    // the pipeline hands back the probe this port made
    load: (p, probe: AudioProbe, signal) => audio.load(p, { signal, probe }),
    mel: (pcm) => melSpectrogram(pcm),
    frameCount,
    fillWindows: (mel, from, to, fps, out) => void fillWindows(mel, from, to, fps, out),
  };
}

function avatarPort(avatars: AvatarService): AvatarPort {
  return { prepare: (p, o) => avatars.prepare(p, o), frameIndex: avatarFrameIndex };
}

/**
 * The render pipeline (audio → face → inference → compositing → encoding) both front doors use.
 * RENDERER is what jobs call: the pipeline itself, unless a test overrides RENDERER with a wrapper.
 */
@Module({
  imports: [MediaModule, AudioModule, AvatarsModule, InferenceModule],
  providers: [
    {
      provide: VIDEO_ENCODER,
      inject: [FfmpegRunner, APP_CONFIG],
      useFactory: (runner: FfmpegRunner, config: AppConfig) => chooseEncoder(runner, config.encoder),
    },
    {
      provide: RENDER_PIPELINE,
      inject: [FfmpegRunner, AudioService, AvatarService, INFERENCE_BACKEND, VIDEO_ENCODER, APP_CONFIG, METRICS, MODEL_PROVENANCE],
      useFactory: (
        runner: FfmpegRunner,
        audio: AudioService,
        avatars: AvatarService,
        backend: InferenceBackend,
        encoder: VideoEncoder,
        config: AppConfig,
        observer: PipelineObserver,
        model: ModelProvenance,
      ) =>
        new RenderPipeline(
          runner,
          audioPort(audio),
          avatarPort(avatars),
          backend,
          {
            defaultBatchSize: config.batchSize,
            encoder,
            inferDeadlineMs: config.backend === 'triton' ? config.triton.deadlineMs : undefined,
            model,
            silence: { thresholdDb: config.silenceThresholdDb },
          },
          observer,
        ),
    },
    { provide: RENDERER, inject: [RENDER_PIPELINE], useFactory: (pipeline: Renderer) => pipeline },
  ],
  exports: [RENDER_PIPELINE, RENDERER, VIDEO_ENCODER, MediaModule, AudioModule, AvatarsModule, InferenceModule],
})
export class RenderModule {}
