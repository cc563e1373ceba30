import { Global, Module } from '@nestjs/common';
import { METRICS } from '../common/tokens';
import { MetricsService } from './metrics.service';

/** One Prometheus registry per app (several apps can share a process in tests); jobs and the pipeline report to it. */
@Global()
@Module({
  providers: [MetricsService, { provide: METRICS, useExisting: MetricsService }],
  exports: [MetricsService, METRICS],
})
export class MetricsModule {}
