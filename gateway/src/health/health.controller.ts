import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { SkipThrottle } from '@nestjs/throttler';
import type { Response } from 'express';
import { APP_CONFIG, METRICS, MODEL_PROVENANCE } from '../common/tokens';
import type { AppConfig } from '../config/config';
import { ApiErrors } from '../api/api-errors.decorator';
import { Public } from '../api/public.decorator';
import { HealthDto, ReadinessDto } from '../api/dto/responses.dto';
import { type BackendReadiness, INFERENCE_BACKEND, type InferenceBackend } from '../inference/inference-backend';
import type { ModelProvenance } from '../inference/model-provenance';
import { JOBS, type JobsDriver } from '../jobs/jobs-driver';
import { redactPaths } from '../common/redact';
import type { MetricsService } from './metrics.service';

const startedAt = Date.now();

/** Liveness, readiness (backend + model) and Prometheus metrics: no API key, no rate limit. */
@ApiTags('health')
@Public()
// the JSON/form body parsers run before every route, so even these answer 400/413 to a malformed body
@ApiErrors(400, 413)
@SkipThrottle()
@Controller()
export class HealthController {
  constructor(
    @Inject(INFERENCE_BACKEND) private readonly backend: InferenceBackend,
    @Inject(METRICS) private readonly metrics: MetricsService,
    @Inject(JOBS) private readonly jobs: JobsDriver,
    @Inject(MODEL_PROVENANCE) private readonly model: ModelProvenance,
    @Inject(APP_CONFIG) private readonly config?: AppConfig,
  ) {}

  /** An API replica needs the queue; a renderer needs the backend (and the queue). */
  private readiness(): BackendReadiness {
    const queue = this.jobs.readiness?.() ?? { ready: true };
    if (this.config?.queue?.role === 'api' || !queue.ready) return queue;
    return this.backend.readiness();
  }

  @Get('healthz')
  @ApiOperation({ summary: 'Liveness: the process serves HTTP' })
  @ApiResponse({ status: 200, type: HealthDto })
  healthz(): HealthDto {
    return { status: 'ok', uptimeSeconds: Math.round((Date.now() - startedAt) / 100) / 10 };
  }

  @Get('readyz')
  @ApiOperation({ summary: 'Readiness: the inference backend and its model are ready (503 with the reason otherwise)' })
  @ApiResponse({ status: 200, type: ReadinessDto })
  @ApiResponse({ status: 503, type: ReadinessDto })
  readyz(@Res({ passthrough: true }) res: Response): ReadinessDto {
    // A closing server takes no new work, so load balancers should stop sending it any.
    const r: BackendReadiness = this.jobs.isClosing ? { ready: false, reason: 'shutting down' } : this.readiness();
    res.status(r.ready ? 200 : 503);
    const body: ReadinessDto = { ready: r.ready, backend: this.backend.kind, queueDepth: this.jobs.queueDepth, model: { ...this.model } };
    // the backend read the served file's own precision: it wins over the stamp's claim
    if (r.precision) body.model.precision = r.precision;
    // public and unauthenticated: the reason never shows MODEL_PATH or other server paths
    if (!r.ready) body.reason = redactPaths(r.reason ?? 'not ready');
    return body;
  }

  @Get('metrics')
  @ApiOperation({ summary: 'Prometheus metrics (text exposition format)' })
  @ApiResponse({
    status: 200,
    description: 'lipsync_* series and process metrics',
    content: { 'text/plain': { schema: { type: 'string' } } },
  })
  @Header('Cache-Control', 'no-store')
  async metricsText(@Res() res: Response): Promise<void> {
    res.setHeader('Content-Type', this.metrics.contentType);
    res.send(await this.metrics.text());
  }
}
