import { Module } from '@nestjs/common';
import { APP_CONFIG } from '../common/tokens';
import type { AppConfig } from '../config/config';
import { FfmpegRunner } from '../media/ffmpeg-runner';
import { MediaModule } from '../media/media.module';
import { AudioService } from './audio.service';

/** Audio front end: probe and decode (ffmpeg) with the configured length limit. */
@Module({
  imports: [MediaModule],
  providers: [
    {
      provide: AudioService,
      inject: [FfmpegRunner, APP_CONFIG],
      useFactory: (runner: FfmpegRunner, config: AppConfig) => new AudioService(runner, { maxAudioSeconds: config.limits.maxAudioSeconds }),
    },
  ],
  exports: [AudioService],
})
export class AudioModule {}
