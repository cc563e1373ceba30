import * as path from 'path';
import { Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
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
      useFactory: (config: AppConfig, avatars: AvatarService) => new AvatarStore(new DataLayout(config.dataDir), avatars),
    },
    FaceDetectorLifecycle,
  ],
  exports: [AvatarService, AvatarStore],
})
export class AvatarsModule {}
