import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_CONFIG } from '../common/tokens';
import type { AppConfig } from './config';

/** The validated configuration (loadConfig() at the front door) as APP_CONFIG, visible to every module. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: APP_CONFIG, useFactory: () => config }], exports: [APP_CONFIG] };
  }
}
