import * as path from 'path';
import { Inject, Injectable, Logger, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG } from '../common/tokens';
import type { AppConfig } from '../config/config';
import { KV_STORE, KeyValueStore } from '../redis/kv-store';
import { FileIdempotencyStore } from './file-idempotency.store';
import { KvIdempotencyStore } from './kv-idempotency.store';
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

/** Idempotency-Key records behind the IdempotencyStore interface: DATA_DIR/idempotency, or Redis with QUEUE=redis. */
@Module({
  providers: [
    {
      provide: IDEMPOTENCY_STORE,
      // QUEUE=redis: the replicas share Redis (KV_STORE); embedded: files in DATA_DIR, kept across restarts
      inject: [APP_CONFIG, KV_STORE],
      useFactory: (config: AppConfig, kv: KeyValueStore) =>
        config.queue?.driver === 'redis' ? new KvIdempotencyStore(kv) : new FileIdempotencyStore(path.join(config.dataDir, 'idempotency')),
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
