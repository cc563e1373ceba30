import { DynamicModule, Module } from '@nestjs/common';
import { AudioService } from './audio/audio.service';
import { APP_CONFIG, CORE_SERVICES, MODEL_PROVENANCE, RENDERER, SPEECH_SYNTHESIZER, VIDEO_ENCODER } from './common/tokens';
import type { AppConfig } from './config/config';
import { ConfigModule } from './config/config.module';
import type { CoreServices } from './core-services';
import { demoModelNotice } from './core-services';
import { AvatarService } from './face/avatar.service';
import { MetricsModule } from './health/metrics.module';
import { RedisModule } from './redis/redis.module';
import { INFERENCE_BACKEND, type InferenceBackend } from './inference/inference-backend';
import type { ModelProvenance } from './inference/model-provenance';
import { FfmpegRunner } from './media/ffmpeg-runner';
import type { VideoEncoder } from './render/encoder-args';
import { RenderModule } from './render/render.module';
import type { Renderer } from './render/render.types';
import { SpeechModule } from './speech/speech.module';

/**
 * The pipeline both front doors share (architecture.md §5): config, metrics, media, audio, avatars,
 * inference, render and speech modules. The HTTP app imports it; the CLI runs it in a standalone
 * application context (createCoreServices). CORE_SERVICES is a typed view of its providers.
 */
@Module({})
export class CoreModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: CoreModule,
      imports: [ConfigModule.forRoot(config), MetricsModule, RedisModule, RenderModule, SpeechModule],
      providers: [
        {
          provide: CORE_SERVICES,
          inject: [
            APP_CONFIG,
            FfmpegRunner,
            AudioService,
            AvatarService,
            INFERENCE_BACKEND,
            SPEECH_SYNTHESIZER,
            RENDERER,
            VIDEO_ENCODER,
            MODEL_PROVENANCE,
          ],
          useFactory: (
            cfg: AppConfig,
            runner: FfmpegRunner,
            audio: AudioService,
            avatars: AvatarService,
            backend: InferenceBackend,
            speech: CoreServices['speech'],
            renderer: Renderer,
            encoder: VideoEncoder,
            model: ModelProvenance,
          ): CoreServices => ({
            config: cfg,
            runner,
            audio,
            avatars,
            backend,
            speech,
            renderer,
            encoder: { name: encoder },
            model,
            modelNotice: () => (cfg.backend === 'onnx' ? demoModelNotice(cfg.modelPath) : undefined),
            // the modules' own shutdown hooks close the backend and the detector when the app closes
            close: async () => undefined,
          }),
        },
      ],
      exports: [CORE_SERVICES, RenderModule, SpeechModule],
    };
  }
}
