import { BeforeApplicationShutdown, Inject, Injectable, Module, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG } from '../common/tokens';
import type { AppConfig, WebhookConfig } from '../config/config';
import { JOBS, type JobsDriver } from '../jobs/jobs-driver';
import { JobsModule } from '../jobs/jobs.module';
import { JobsService } from '../jobs/jobs.service';
import { RedisJobsDriver } from '../jobs/redis-jobs.driver';
import { OutboundHttp } from '../outbound/outbound-http';
import { OutboundModule } from '../outbound/outbound.module';
import { REDIS } from '../redis/redis.module';
import type { RedisConnections } from '../redis/redis-connections';
import { WebhookDispatcher } from './webhook-dispatcher';
import { webhookLeaseMs } from '../jobs/redis-job-store';
import { MemoryWebhookSchedule, RedisWebhookSchedule } from './webhook-schedule';

/** Starts deliveries after the jobs driver started (onModuleInit: journal replayed, Redis connected), stops them at shutdown. */
@Injectable()
export class WebhooksLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(WebhookDispatcher) private readonly dispatcher: WebhookDispatcher) {}

  onApplicationBootstrap(): void {
    this.dispatcher.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.dispatcher.close();
  }
}

export const WEBHOOK_DEFAULTS: WebhookConfig = { maxAttempts: 6, timeoutMs: 10_000, retryBaseMs: 2_000, retryMaxMs: 300_000 };

/** The schedule that goes with the jobs driver (driver + factory): this process's timers, or the shared one in Redis. */
export function createWebhookDispatcher(jobs: JobsDriver, http: OutboundHttp, config: AppConfig, redis: RedisConnections | null) {
  const settings = config.webhooks ?? WEBHOOK_DEFAULTS;
  if (jobs instanceof JobsService) return new WebhookDispatcher(jobs, new MemoryWebhookSchedule(jobs), http, settings);
  if (jobs instanceof RedisJobsDriver && redis)
    return new WebhookDispatcher(jobs, new RedisWebhookSchedule(redis, webhookLeaseMs(settings.timeoutMs)), http, settings);
  throw new Error(`no webhook schedule for the ${jobs.kind} jobs driver`);
}

/**
 * Signed job webhooks (job.succeeded / job.failed / job.cancelled) through the outbound address
 * policy, with either queue driver. Every role runs it (a worker delivers what it finished).
 */
@Module({
  imports: [JobsModule, OutboundModule],
  providers: [
    { provide: WebhookDispatcher, inject: [JOBS, OutboundHttp, APP_CONFIG, REDIS], useFactory: createWebhookDispatcher },
    WebhooksLifecycle,
  ],
  exports: [WebhookDispatcher],
})
export class WebhooksModule {}
