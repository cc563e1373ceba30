import { DynamicModule, Global, Module } from '@nestjs/common';
import { preparePrivateDataDir } from '../common/data-dir';
import { APP_CONFIG } from '../common/tokens';
import type { AppConfig } from './config';

/** The validated configuration (loadConfig() at the front door) as APP_CONFIG, visible to every module. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    const factory = () => {
      // a DATA_DIR of another user or a world-writable one is refused before anything reads it (issue 10, item 3)
      preparePrivateDataDir(config.dataDir);
      return config;
    };
    return { module: ConfigModule, providers: [{ provide: APP_CONFIG, useFactory: factory }], exports: [APP_CONFIG] };
  }
}
