import { BeforeApplicationShutdown, Inject, Injectable, Module, OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG } from '../common/tokens';
import type { AppConfig } from '../config/config';
import { JobsModule } from '../jobs/jobs.module';
import { JobsService } from '../jobs/jobs.service';
import { OutboundHttp } from '../outbound/outbound-http';
import { OutboundModule } from '../outbound/outbound.module';
import { WebhookDispatcher } from './webhook-dispatcher';

/** Starts deliveries after the jobs service replayed its journal (onModuleInit), stops them at shutdown. */
@Injectable()
export class WebhooksLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(WebhookDispatcher) private readonly dispatcher: WebhookDispatcher | null) {}

  onApplicationBootstrap(): void {
    this.dispatcher?.start();
  }

  beforeApplicationShutdown(): void {
    this.dispatcher?.close();
  }
}

const DEFAULTS = { maxAttempts: 6, timeoutMs: 10_000, retryBaseMs: 2_000, retryMaxMs: 300_000 };

/** Signed job webhooks (job.succeeded / job.failed / job.cancelled) through the outbound address policy. */
@Module({
  imports: [JobsModule, OutboundModule],
  providers: [
    {
      provide: WebhookDispatcher,
      inject: [JobsService, OutboundHttp, APP_CONFIG],
      // the dispatcher follows the embedded JobsService; with QUEUE=redis (no JobsService) webhooks are off for now
      useFactory: (jobs: JobsService | undefined, http: OutboundHttp, config: AppConfig) =>
        jobs ? new WebhookDispatcher(jobs, http, config.webhooks ?? DEFAULTS) : null,
    },
    WebhooksLifecycle,
  ],
  exports: [WebhookDispatcher],
})
export class WebhooksModule {}
