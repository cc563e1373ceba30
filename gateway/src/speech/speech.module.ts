import { Module } from '@nestjs/common';
import { APP_CONFIG, SPEECH_SYNTHESIZER } from '../common/tokens';
import type { AppConfig } from '../config/config';
import { speechFromConfig } from './espeak-synthesizer';

/** Text to speech (espeak-ng today) behind SPEECH_SYNTHESIZER. */
@Module({
  providers: [{ provide: SPEECH_SYNTHESIZER, inject: [APP_CONFIG], useFactory: (config: AppConfig) => speechFromConfig(config) }],
  exports: [SPEECH_SYNTHESIZER],
})
export class SpeechModule {}
