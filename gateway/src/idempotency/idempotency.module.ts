import * as path from 'path';
import { Inject, Injectable, Logger, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG } from '../common/tokens';
import type { AppConfig } from '../config/config';
import { FileIdempotencyStore } from './file-idempotency.store';
import { IDEMPOTENCY_STORE, IdempotencyStore } from './idempotency-store';
import { IdempotencyService } from './idempotency.service';

/** Sweeps expired records at start (and stale claims of the previous run), then hourly. */
@Injectable()
export class IdempotencyLifecycle implements OnModuleInit, OnApplicationShutdown {
  private readonly log = new Logger('Idempotency');
  private timer?: NodeJS.Timeout;

  constructor(@Inject(IdempotencyService) private readonly service: IdempotencyService) {}

  async onModuleInit(): Promise<void> {
    await this.service.sweep(true);
    this.timer = setInterval(() => void this.service.sweep(false).catch((e) => this.log.warn(`sweep failed: ${String(e)}`)), 3_600_000);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

/** Idempotency-Key records (DATA_DIR/idempotency) behind the IdempotencyStore interface. */
@Module({
  providers: [
    {
      provide: IDEMPOTENCY_STORE,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => new FileIdempotencyStore(path.join(config.dataDir, 'idempotency')),
    },
    {
      provide: IdempotencyService,
      inject: [IDEMPOTENCY_STORE, APP_CONFIG],
      useFactory: (store: IdempotencyStore, config: AppConfig) =>
        new IdempotencyService(store, { ttlSeconds: config.idempotency?.ttlSeconds ?? 86_400, apiKeys: config.apiKeys }),
    },
    IdempotencyLifecycle,
  ],
  exports: [IdempotencyService],
})
export class IdempotencyModule {}
