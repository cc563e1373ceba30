import { BeforeApplicationShutdown, Inject, Injectable, Module, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, RENDERER } from '../common/tokens';
import type { AppConfig } from '../config/config';
import { MetricsService } from '../health/metrics.service';
import { RenderModule } from '../render/render.module';
import type { Renderer } from '../render/render.types';
import { JobsService } from './jobs.service';

/**
 * Starts the jobs service when the app initialises (journal replay, resume) and stops it *before*
 * the HTTP server closes: Nest's close() waits for open requests, and waiting streams/one-shot
 * requests only end once the jobs service wakes them. Backend and detector close after it
 * (onApplicationShutdown).
 */
@Injectable()
export class JobsLifecycle implements OnModuleInit, BeforeApplicationShutdown {
  constructor(@Inject(JobsService) private readonly jobs: JobsService) {}

  onModuleInit(): void {
    this.jobs.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.jobs.close();
  }
}

/** Job admission, state, cancel, persistence and cleanup (jobs.service.ts), rendering with RENDERER. */
@Module({
  imports: [RenderModule],
  providers: [
    {
      provide: JobsService,
      inject: [APP_CONFIG, RENDERER, MetricsService],
      useFactory: (config: AppConfig, renderer: Renderer, metrics: MetricsService) =>
        new JobsService(
          { dataDir: config.dataDir, concurrency: config.jobs.concurrency, queueMax: config.jobs.queueMax, resultTtlSeconds: config.jobs.resultTtlSeconds, jobTimeoutSeconds: config.jobs.timeoutSeconds },
          renderer,
          metrics,
        ),
    },
    JobsLifecycle,
  ],
  exports: [JobsService],
})
export class JobsModule {}
