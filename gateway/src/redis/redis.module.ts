import { Global, Inject, Injectable, Module, OnApplicationShutdown, Optional } from '@nestjs/common';
import { APP_CONFIG } from '../common/tokens';
import type { AppConfig } from '../config/config';
import { KV_STORE, MemoryKeyValueStore, RedisKeyValueStore } from './kv-store';
import { RedisConnections } from './redis-connections';

export const REDIS = Symbol('REDIS');

/** Closes the Redis connections last (the jobs driver stops in beforeApplicationShutdown). */
@Injectable()
export class RedisLifecycle implements OnApplicationShutdown {
  constructor(@Optional() @Inject(REDIS) private readonly redis: RedisConnections | null) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis?.close();
  }
}

/**
 * Shared state: the Redis connections when QUEUE=redis (REDIS is null otherwise) and the
 * key-value store (KV_STORE: Redis or memory) for features that must agree across replicas.
 */
@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        config.queue?.driver === 'redis' ? new RedisConnections(config.queue.redisUrl, config.queue.prefix) : null,
    },
    {
      provide: KV_STORE,
      inject: [REDIS],
      useFactory: (redis: RedisConnections | null) => (redis ? new RedisKeyValueStore(redis) : new MemoryKeyValueStore()),
    },
    RedisLifecycle,
  ],
  exports: [REDIS, KV_STORE],
})
export class RedisModule {}
