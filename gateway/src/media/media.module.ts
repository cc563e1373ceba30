import { Module } from '@nestjs/common';
import { APP_CONFIG } from '../common/tokens';
import type { AppConfig } from '../config/config';
import { FfmpegRunner } from './ffmpeg-runner';

/** The one ffmpeg/ffprobe runner every stage shares. */
@Module({
  providers: [
    {
      provide: FfmpegRunner,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new FfmpegRunner({ ffmpegPath: config.ffmpegPath, ffprobePath: config.ffprobePath }),
    },
  ],
  exports: [FfmpegRunner],
})
export class MediaModule {}
