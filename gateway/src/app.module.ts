import { DynamicModule, INestApplication, LoggerService, LogLevel, Module, ValidationPipe } from '@nestjs/common';
import { APP_FILTER, APP_PIPE, NestFactory } from '@nestjs/core';
import { json, NextFunction, Request, Response, urlencoded } from 'express';
import { Logger as PinoLogger, LoggerModule } from 'nestjs-pino';
import { ApiModule } from './api/api.module';
import { mapError } from './api/error-mapping';
import { GatewayExceptionFilter } from './api/gateway-exception.filter';
import { securityHeaders } from './api/security-headers';
import { setupStaticSite } from './api/static-site';
import { setupSwagger } from './api/swagger.setup';
import { loggerParams } from './common/logging';
import { APP_CONFIG } from './common/tokens';
import type { AppConfig } from './config/config';
import { CoreModule } from './core.module';
import { HealthModule } from './health/health.module';
import { JobsModule } from './jobs/jobs.module';
import { SessionsModule } from './sessions/sessions.module';
import { WebhooksModule } from './webhooks/webhooks.module';

/**
 * The gateway: one Nest module per domain (CoreModule's pipeline, jobs, the REST API, health),
 * each building its providers from the validated config by factories. Nothing is built by hand
 * outside the DI container; tests swap providers with Nest's overrideProvider.
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    // the server's uploads, faces, results and journal are private to its user: files 0600, folders 0700
    process.umask(0o077);
    return {
      module: AppModule,
      // a worker (ROLE=worker) renders and serves only /healthz, /readyz and /metrics
      imports: [
        LoggerModule.forRoot(loggerParams(config)),
        CoreModule.forRoot(config),
        JobsModule,
        // every role delivers the webhooks of the jobs it finishes (a worker, or an API cancelling a waiting job)
        WebhooksModule,
        ...(config.queue?.role === 'worker' ? [] : [ApiModule, SessionsModule]),
        HealthModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: GatewayExceptionFilter },
        { provide: APP_PIPE, useFactory: () => new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }) },
      ],
    };
  }
}

/** Options every HTTP front door (main.ts, tests) creates the Nest app with. */
export function httpAppOptions(logger: LoggerService | LogLevel[] | false) {
  return {
    bodyParser: false,
    // close() must not wait for clients still downloading or holding a stream open
    forceCloseConnections: true,
    // a start-up failure (model missing, bad encoder) reaches main.ts as an error, not process.abort()
    abortOnError: false,
    logger,
  };
}

/** Nest log levels for LOG_LEVEL (each level includes the more severe ones). */
export function logLevels(level: string): LogLevel[] {
  const order: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
  const i = order.indexOf(level as LogLevel);
  return order.slice(0, i < 0 ? 4 : i + 1);
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

/** Express settings, middleware and Swagger on a created (not yet listening) app. */
export function configureApp(app: INestApplication, config?: AppConfig): void {
  const http = app.getHttpAdapter().getInstance() as { disable?: (name: string) => void; set?: (name: string, value: unknown) => void };
  http.disable?.('x-powered-by');
  // who the client is behind a load balancer (rate-limit buckets per client IP): TRUST_PROXY
  http.set?.('trust proxy', app.get<AppConfig>(APP_CONFIG).trustProxy);
  app.use(securityHeaders());
  app.use(guardedParser(json({ limit: '1mb' })));
  app.use(guardedParser(urlencoded({ extended: false, limit: '1mb' })));
  if (config?.queue?.role === 'worker') return;
  // the web page at / (static files); the API, /docs and health routes fall through it
  setupStaticSite(app);
  setupSwagger(app);
}

/** Builds the gateway (modules, HTTP app, Swagger) without listening; main.ts uses it, tests build theirs with overrides (test/helpers/test-app.ts). */
export async function createApp(
  config: AppConfig,
  opts: { logger?: LoggerService | LogLevel[] | false; structuredLogs?: boolean } = {},
): Promise<INestApplication> {
  const options = httpAppOptions(opts.logger ?? logLevels(config.logLevel));
  // structured logs (main.ts): Nest's own lines are held until the pino logger is in place
  const app = await NestFactory.create(AppModule.forRoot(config), opts.structuredLogs ? { ...options, bufferLogs: true } : options);
  if (opts.structuredLogs) app.useLogger(app.get(PinoLogger));
  configureApp(app, config);
  return app;
}
