import { BeforeApplicationShutdown, Inject, Injectable, Module, OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ThrottlerStorageService } from '@nestjs/throttler';
import type { Server } from 'http';
import { AvatarStore } from '../api/avatar-store.service';
import { AudioService } from '../audio/audio.service';
import { APP_CONFIG, MODEL_PROVENANCE, SPEECH_SYNTHESIZER, VIDEO_ENCODER } from '../common/tokens';
import { DEFAULT_SESSIONS_CONFIG, type AppConfig } from '../config/config';
import { AvatarService } from '../face/avatar.service';
import { avatarFrameIndex } from '../face/frame-index';
import { MetricsService } from '../health/metrics.service';
import { INFERENCE_BACKEND, type InferenceBackend } from '../inference/inference-backend';
import type { ModelProvenance } from '../inference/model-provenance';
import { FfmpegRunner } from '../media/ffmpeg-runner';
import type { VideoEncoder } from '../render/encoder-args';
import { outputMetadata } from '../render/output-metadata';
import { RenderModule } from '../render/render.module';
import { SpeechModule } from '../speech/speech.module';
import type { SpeechSynthesizer } from '../speech/speech-synthesizer';
import { SessionsController } from './sessions.controller';
import { SessionsService } from './sessions.service';
import { SessionsSocket } from './sessions-socket';
import { TrustFn, UpgradeThrottle } from './upgrade-throttle';
import { REDIS } from '../redis/redis.module';
import type { RedisConnections } from '../redis/redis-connections';
import { RedisThrottlerStorage } from '../redis/redis-throttler.storage';

const UPGRADE_THROTTLE_STORAGE = Symbol('UPGRADE_THROTTLE_STORAGE');

/** Puts the WebSocket endpoint on the HTTP server once it exists; ends every session before the server closes. */
@Injectable()
export class SessionsLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    @Inject(SessionsService) private readonly sessions: SessionsService,
    @Inject(SessionsSocket) private readonly socket: SessionsSocket,
    private readonly http: HttpAdapterHost,
  ) {}

  onApplicationBootstrap(): void {
    // Express compiles TRUST_PROXY into this function (configureApp sets 'trust proxy'); REST's req.ip uses the same
    const express = this.http.httpAdapter.getInstance<{ get?: (name: string) => unknown }>();
    const trust = express.get?.('trust proxy fn');
    this.socket.attach(this.http.httpAdapter.getHttpServer() as Server, typeof trust === 'function' ? (trust as TrustFn) : undefined);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.sessions.close();
    await this.socket.close();
  }
}

/** Live sessions: REST (/v1/sessions) and the WebSocket (/v1/sessions/:id/ws), on the shared pipeline's parts. */
@Module({
  imports: [RenderModule, SpeechModule],
  controllers: [SessionsController],
  providers: [
    {
      provide: SessionsService,
      inject: [
        APP_CONFIG,
        FfmpegRunner,
        INFERENCE_BACKEND,
        AvatarStore,
        AvatarService,
        SPEECH_SYNTHESIZER,
        AudioService,
        VIDEO_ENCODER,
        MetricsService,
        MODEL_PROVENANCE,
      ],
      useFactory: (
        config: AppConfig,
        runner: FfmpegRunner,
        backend: InferenceBackend,
        store: AvatarStore,
        avatars: AvatarService,
        speech: SpeechSynthesizer,
        audio: AudioService,
        encoder: VideoEncoder,
        metrics: MetricsService,
        model: ModelProvenance | undefined,
      ) =>
        new SessionsService({
          config: config.sessions ?? DEFAULT_SESSIONS_CONFIG,
          dataDir: config.dataDir,
          runner,
          backend,
          facePath: (id) => store.facePath(id),
          prepare: (face) => avatars.prepare(face, {}),
          frameIndex: avatarFrameIndex,
          speech,
          decode: async (file, signal) => (await audio.load(file, { signal })).pcm,
          encoder,
          inferDeadlineMs: config.backend === 'triton' ? config.triton.deadlineMs : undefined,
          metadata: model ? outputMetadata(model) : undefined,
          observer: {
            latency: (ms) => metrics.sessionLatencyMs(ms),
            frame: (kind) => metrics.sessionFrame(kind),
            sessionsChanged: (d) => metrics.sessionsChanged(d),
          },
        }),
    },
    // the REST limiter's kind of storage: Redis with QUEUE=redis (limits across API replicas), else in memory
    {
      provide: UPGRADE_THROTTLE_STORAGE,
      inject: [REDIS],
      useFactory: (redis: RedisConnections | null) => (redis ? new RedisThrottlerStorage(redis) : new ThrottlerStorageService()),
    },
    {
      provide: SessionsSocket,
      inject: [SessionsService, APP_CONFIG, UPGRADE_THROTTLE_STORAGE],
      useFactory: (sessions: SessionsService, config: AppConfig, storage: RedisThrottlerStorage | ThrottlerStorageService) =>
        new SessionsSocket(sessions, {
          apiKeys: config.apiKeys,
          maxBufferedBytes: (config.sessions ?? DEFAULT_SESSIONS_CONFIG).maxBufferedBytes,
          throttle: new UpgradeThrottle(storage, config.rateLimitPerMinute, config.apiKeys),
        }),
    },
    SessionsLifecycle,
  ],
  exports: [SessionsService],
})
export class SessionsModule {}
