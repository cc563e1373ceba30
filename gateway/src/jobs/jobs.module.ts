import { BeforeApplicationShutdown, Inject, Injectable, Module, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, RENDERER } from '../common/tokens';
import type { AppConfig } from '../config/config';
import { MetricsService } from '../health/metrics.service';
import { REDIS } from '../redis/redis.module';
import type { RedisConnections } from '../redis/redis-connections';
import { RenderModule } from '../render/render.module';
import type { Renderer } from '../render/render.types';
import { JOBS, type JobsDriver } from './jobs-driver';
import { JobsService } from './jobs.service';
import { webhookLeaseMs } from './redis-job-store';
import { RedisJobsDriver } from './redis-jobs.driver';

/**
 * Starts the jobs driver when the app initialises (journal replay / queue connection) and stops it
 * *before* the HTTP server closes: Nest's close() waits for open requests, and waiting
 * streams/one-shot requests only end once the driver wakes them. Backend, detector and Redis
 * close after it (onApplicationShutdown).
 */
@Injectable()
export class JobsLifecycle implements OnModuleInit, BeforeApplicationShutdown {
  constructor(@Inject(JOBS) private readonly jobs: JobsDriver) {}

  async onModuleInit(): Promise<void> {
    await this.jobs.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.jobs.close();
  }
}

/** The driver named by QUEUE (driver + factory): embedded JobsService, or BullMQ on Redis. */
export function createJobsDriver(
  config: AppConfig,
  renderer: Renderer,
  metrics: MetricsService,
  redis: RedisConnections | null,
): JobsDriver {
  const q = config.queue ?? { driver: 'embedded' as const, role: 'all' as const, maxAttempts: 3, lockMs: 30_000 };
  const settings = {
    dataDir: config.dataDir,
    concurrency: config.jobs.concurrency,
    queueMax: config.jobs.queueMax,
    resultTtlSeconds: config.jobs.resultTtlSeconds,
    jobTimeoutSeconds: config.jobs.timeoutSeconds,
  };
  switch (q.driver) {
    case 'embedded':
      return new JobsService(settings, renderer, metrics);
    case 'redis':
      if (!redis) throw new Error('QUEUE=redis without a Redis connection');
      return new RedisJobsDriver(
        redis,
        {
          ...settings,
          role: q.role,
          maxAttempts: q.maxAttempts,
          lockMs: q.lockMs,
          // a process that delivers webhooks (it has the secret) claims those of the jobs it finishes;
          // one that does not (a worker with no route out) leaves them due at once for the others
          webhookLeaseMs: config.webhooks?.secret ? webhookLeaseMs(config.webhooks.timeoutMs) : 0,
        },
        renderer,
        metrics,
      );
  }
}

/** Job admission, state, cancel, persistence and cleanup behind JOBS, rendering with RENDERER. */
@Module({
  imports: [RenderModule],
  providers: [
    { provide: JOBS, inject: [APP_CONFIG, RENDERER, MetricsService, REDIS], useFactory: createJobsDriver },
    // the embedded driver under its class name too (tests reach into it); undefined in redis mode
    { provide: JobsService, inject: [JOBS], useFactory: (jobs: JobsDriver) => (jobs instanceof JobsService ? jobs : undefined) },
    JobsLifecycle,
  ],
  exports: [JOBS, JobsService],
})
export class JobsModule {}
