import * as path from 'path';
import { Inject, Injectable, Logger, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AvatarStore } from '../api/avatar-store.service';
import { APP_CONFIG, FACE_DETECTOR } from '../common/tokens';
import type { AppConfig } from '../config/config';
import { DataLayout } from '../jobs/job-files';
import { FfmpegRunner } from '../media/ffmpeg-runner';
import { MediaModule } from '../media/media.module';
import { AvatarService } from './avatar.service';
import { FaceApiDetector, type FaceDetector } from './face-detector';
import { ImageAdapter } from './image.adapter';

/** Ends the detector's worker thread when the app closes. */
@Injectable()
export class FaceDetectorLifecycle implements OnApplicationShutdown {
  constructor(@Inject(FACE_DETECTOR) private readonly detector: { close(): Promise<void> }) {}

  async onApplicationShutdown(): Promise<void> {
    await this.detector.close();
  }
}

/** Deletes avatars (and their box records) past AVATAR_TTL_SECONDS: at start, then periodically. */
@Injectable()
export class AvatarSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger(AvatarSweeper.name);
  private timer: NodeJS.Timeout | undefined;
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(AvatarStore) private readonly store: AvatarStore,
    @Inject(AvatarService) private readonly avatars: AvatarService,
  ) {}

  onApplicationBootstrap(): void {
    const ttl = this.config.avatars.ttlSeconds;
    if (!(ttl > 0)) return;
    const sweep = () =>
      void Promise.all([this.store.sweep(), this.avatars.sweepRecords(ttl * 1000)]).catch((e) =>
        this.log.warn(`avatar sweep failed: ${String(e)}`),
      );
    sweep();
    this.timer = setInterval(sweep, Math.min(3600, Math.max(1, ttl / 4)) * 1000);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

/**
 * Avatars: face detection (a worker thread), the prepared-avatar cache (AvatarService) and the
 * uploaded avatars under DATA_DIR/avatars (AvatarStore), all on the shared DATA_DIR.
 */
@Module({
  imports: [MediaModule],
  providers: [
    ImageAdapter,
    { provide: FACE_DETECTOR, useFactory: () => new FaceApiDetector() },
    {
      provide: AvatarService,
      inject: [FfmpegRunner, ImageAdapter, FACE_DETECTOR, APP_CONFIG],
      useFactory: (runner: FfmpegRunner, images: ImageAdapter, detector: FaceDetector, config: AppConfig) =>
        new AvatarService(runner, images, detector, {
          cacheDir: path.join(config.dataDir, 'avatar-cache'),
          maxImagePixels: config.limits.maxImagePixels,
          maxVideoSeconds: config.limits.maxVideoSeconds,
        }),
    },
    {
      provide: AvatarStore,
      inject: [APP_CONFIG, AvatarService],
      useFactory: (config: AppConfig, avatars: AvatarService) =>
        new AvatarStore(new DataLayout(config.dataDir), avatars, {
          ttlSeconds: config.avatars.ttlSeconds,
          concurrency: config.avatars.concurrency,
        }),
    },
    FaceDetectorLifecycle,
    AvatarSweeper,
  ],
  exports: [AvatarService, AvatarStore],
})
export class AvatarsModule {}
