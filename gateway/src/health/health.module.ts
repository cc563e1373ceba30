import { Module } from '@nestjs/common';
import { InferenceModule } from '../inference/inference.module';
import { JobsModule } from '../jobs/jobs.module';
import { HealthController } from './health.controller';

/** /healthz, /readyz and /metrics: every role serves them (a worker serves nothing else). */
@Module({
  imports: [InferenceModule, JobsModule],
  controllers: [HealthController],
})
export class HealthModule {}
