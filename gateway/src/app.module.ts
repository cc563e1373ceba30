import {
  BeforeApplicationShutdown,
  DynamicModule,
  Inject,
  INestApplication,
  Injectable,
  LoggerService,
  LogLevel,
  Module,
  OnApplicationShutdown,
  ValidationPipe,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE, NestFactory } from '@nestjs/core';
import { MulterModule } from '@nestjs/platform-express';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { json, NextFunction, Request, Response, urlencoded } from 'express';
import { ApiKeyGuard } from './api/api-key.guard';
import { rateLimitTracker } from './api/api-key.util';
import { APP_CONFIG, CORE_SERVICES, METRICS } from './api/api.tokens';
import { AvatarStore } from './api/avatar-store.service';
import { AvatarsController } from './api/avatars.controller';
import { mapError } from './api/error-mapping';
import { GatewayExceptionFilter } from './api/gateway-exception.filter';
import { JobSubmission } from './api/job-submission.service';
import { JobsController } from './api/jobs.controller';
import { LipsyncController } from './api/lipsync.controller';
import { setupStaticSite } from './api/static-site';
import { setupSwagger } from './api/swagger.setup';
import { multerOptions } from './api/upload.util';
import type { AppConfig } from './config/config';
import { CoreServices, createCoreServices } from './core-services';
import { HealthController } from './health/health.controller';
import { MetricsService } from './health/metrics.service';
import type { InferenceBackend } from './inference/inference-backend';
import { DataLayout } from './jobs/job-files';
import { JobsService } from './jobs/jobs.service';
import type { Renderer } from './render/render.types';
import type { SpeechSynthesizer } from './speech/speech-synthesizer';

export interface AppOverrides {
  /** replace the inference backend (tests: the fake backend) */
  backend?: InferenceBackend;
  speech?: SpeechSynthesizer;
  /** wrap the real renderer (tests: hold a job at a gate, watch a render) */
  wrapRenderer?: (real: Renderer) => Renderer;
  logger?: LoggerService | LogLevel[] | false;
}

interface AppDeps {
  config: AppConfig;
  services: CoreServices;
  metrics: MetricsService;
  jobs: JobsService;
  avatars: AvatarStore;
  submission: JobSubmission;
}

/**
 * Stops jobs (leaving them queued in the journal) and the core services when the app closes. Jobs
 * stop *before* the HTTP server closes: Nest's close() waits for open requests, and waiting
 * streams/one-shot requests only end once the jobs service wakes them.
 */
@Injectable()
class AppLifecycle implements BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    @Inject(JobsService) private readonly jobs: JobsService,
    @Inject(CORE_SERVICES) private readonly services: CoreServices,
  ) {}

  async beforeApplicationShutdown(): Promise<void> {
    await this.jobs.close();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.services.close();
  }
}

@Module({})
export class AppModule {
  static forRoot(deps: AppDeps): DynamicModule {
    const { config } = deps;
    return {
      module: AppModule,
      imports: [
        MulterModule.register(multerOptions(new DataLayout(config.dataDir).uploadsDir, config.limits.maxUploadBytes)),
        ThrottlerModule.forRoot({
          throttlers: [{ ttl: 60_000, limit: config.rateLimitPerMinute }],
          getTracker: (req: Record<string, any>) => rateLimitTracker(req.headers, req.ip, config.apiKeys),
        }),
      ],
      controllers: [AvatarsController, JobsController, LipsyncController, HealthController],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: CORE_SERVICES, useValue: deps.services },
        { provide: METRICS, useValue: deps.metrics },
        { provide: JobsService, useValue: deps.jobs },
        { provide: AvatarStore, useValue: deps.avatars },
        { provide: JobSubmission, useValue: deps.submission },
        // Guards run in this order: authentication, then the per-key rate limit.
        { provide: APP_GUARD, useClass: ApiKeyGuard },
        { provide: APP_GUARD, useClass: ThrottlerGuard },
        { provide: APP_FILTER, useClass: GatewayExceptionFilter },
        { provide: APP_PIPE, useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }) },
        AppLifecycle,
      ],
    };
  }
}

/** Nest log levels for LOG_LEVEL (each level includes the more severe ones). */
export function logLevels(level: string): LogLevel[] {
  const order: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
  const i = order.indexOf(level as LogLevel);
  return order.slice(0, i < 0 ? 4 : i + 1);
}

/** Basic hardening headers (a small subset of what helmet sets). */
function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  next();
}

/** Body parsers whose errors (bad JSON, too large) get the gateway's error body instead of Express's HTML page. */
function guardedParser(parser: ReturnType<typeof json>) {
  return (req: Request, res: Response, next: NextFunction) =>
    parser(req, res, (err?: unknown) => {
      if (!err) return next();
      const m = mapError(err);
      res.status(m.status).json(m.body);
    });
}

/**
 * Builds the gateway (core services, jobs, HTTP app, Swagger) without listening. main.ts and
 * the e2e tests both use it; several apps can live in one process (metrics registries are per app).
 */
export async function createApp(config: AppConfig, overrides: AppOverrides = {}): Promise<INestApplication> {
  const metrics = new MetricsService();
  const services = await createCoreServices(config, {
    backend: overrides.backend,
    speech: overrides.speech,
    observer: metrics,
  });
  try {
    const renderer = overrides.wrapRenderer ? overrides.wrapRenderer(services.renderer) : services.renderer;
    const jobs = new JobsService(
      { dataDir: config.dataDir, concurrency: config.jobs.concurrency, queueMax: config.jobs.queueMax, resultTtlSeconds: config.jobs.resultTtlSeconds },
      renderer,
      metrics,
    );
    const avatars = new AvatarStore(new DataLayout(config.dataDir), services.avatars);
    const submission = new JobSubmission(jobs, avatars, services.speech, services.audio);
    jobs.start();
    const app = await NestFactory.create(AppModule.forRoot({ config, services, metrics, jobs, avatars, submission }), {
      bodyParser: false,
      // close() must not wait for clients still downloading or holding a stream open
      forceCloseConnections: true,
      logger: overrides.logger ?? logLevels(config.logLevel),
    });
    const http = app.getHttpAdapter().getInstance() as { disable?: (name: string) => void };
    http.disable?.('x-powered-by');
    app.use(securityHeaders);
    app.use(guardedParser(json({ limit: '1mb' })));
    app.use(guardedParser(urlencoded({ extended: false, limit: '1mb' })));
    // the web page at / (static files); the API, /docs and health routes fall through it
    setupStaticSite(app);
    setupSwagger(app);
    return app;
  } catch (err) {
    await services.close();
    throw err;
  }
}
