import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { MulterModule } from '@nestjs/platform-express';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { AudioService } from '../audio/audio.service';
import { APP_CONFIG, SPEECH_SYNTHESIZER } from '../common/tokens';
import type { AppConfig } from '../config/config';
import { JobsModule } from '../jobs/jobs.module';
import { JOBS, type JobsDriver } from '../jobs/jobs-driver';
import { DataLayout } from '../jobs/job-files';
import { IdempotencyModule } from '../idempotency/idempotency.module';
import { OutboundModule } from '../outbound/outbound.module';
import { UrlFetcher } from '../outbound/url-fetcher';
import { WebhookDispatcher } from '../webhooks/webhook-dispatcher';
import { WebhooksModule } from '../webhooks/webhooks.module';
import { REDIS } from '../redis/redis.module';
import type { RedisConnections } from '../redis/redis-connections';
import { RedisThrottlerStorage } from '../redis/redis-throttler.storage';
import { RenderModule } from '../render/render.module';
import { SpeechModule } from '../speech/speech.module';
import type { SpeechSynthesizer } from '../speech/speech-synthesizer';
import { ApiKeyGuard } from './api-key.guard';
import { rateLimitTracker } from './api-key.util';
import { AvatarService } from '../face/avatar.service';
import { AvatarStore } from './avatar-store.service';
import { AvatarsController } from './avatars.controller';
import { JobSubmission } from './job-submission.service';
import { JobsController } from './jobs.controller';
import { LipsyncController } from './lipsync.controller';
import { multerOptions } from './upload.util';

/** The public REST API (/v1): uploads, avatars, jobs, one-shot; API keys and per-key rate limits. */
@Module({
  imports: [
    RenderModule,
    SpeechModule,
    JobsModule,
    OutboundModule,
    WebhooksModule,
    IdempotencyModule,
    MulterModule.registerAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => multerOptions(new DataLayout(config.dataDir).uploadsDir, config.limits.maxUploadBytes),
    }),
    ThrottlerModule.forRootAsync({
      inject: [APP_CONFIG, REDIS],
      useFactory: (config: AppConfig, redis: RedisConnections | null) => ({
        // in Redis when there is one, so the per-key limits hold across API replicas
        storage: redis ? new RedisThrottlerStorage(redis) : undefined,
        throttlers: [{ ttl: 60_000, limit: config.rateLimitPerMinute }],
        // eslint-disable-next-line @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-argument -- the throttler hands getTracker an untyped request
        getTracker: (req: Record<string, any>) => rateLimitTracker(req.headers, req.ip, config.apiKeys),
      }),
    }),
  ],
  controllers: [AvatarsController, JobsController, LipsyncController],
  providers: [
    {
      provide: JobSubmission,
      inject: [JOBS, AvatarStore, SPEECH_SYNTHESIZER, AudioService, UrlFetcher, WebhookDispatcher, AvatarService],
      useFactory: (
        jobs: JobsDriver,
        avatars: AvatarStore,
        speech: SpeechSynthesizer,
        audio: AudioService,
        urls: UrlFetcher,
        webhooks: WebhookDispatcher,
        faces: AvatarService,
      ) => new JobSubmission(jobs, avatars, speech, audio, urls, webhooks, faces),
    },
    // Guards run in this order: the rate limit (per valid key, else per client IP), then
    // authentication, so requests with a missing or wrong key are limited too (issue 10, item 4).
    { provide: APP_GUARD, useClass: ThrottlerGuard },
    { provide: APP_GUARD, useClass: ApiKeyGuard },
  ],
})
export class ApiModule {}
