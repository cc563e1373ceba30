import type { IncomingMessage, ServerResponse } from 'http';
import type { Params } from 'nestjs-pino';
import pino, { type LevelWithSilent } from 'pino';
import pretty from 'pino-pretty';
import { currentLogContext } from './log-context';

/** LOG_LEVEL (Nest's names) → pino's level names. */
const PINO_LEVEL: Record<string, LevelWithSilent> = { error: 'error', warn: 'warn', log: 'info', debug: 'debug', verbose: 'trace' };

export function pinoLevel(logLevel: string): LevelWithSilent {
  return PINO_LEVEL[logLevel] ?? 'info';
}

/**
 * nestjs-pino settings of the server: structured JSON lines on stdout (LOG_FORMAT=pretty: pino-pretty,
 * colours on a terminal), the job id on every line written inside a job (log-context.ts), requests
 * logged by pino-http with their id, status and time; health probes and metrics scrapes not logged.
 */
export function loggerParams(config: { logLevel: string; logFormat?: 'json' | 'pretty' }): Params {
  const stream =
    config.logFormat === 'pretty' ? pretty({ colorize: process.stdout.isTTY, destination: 1, sync: true }) : pino.destination(1);
  return {
    pinoHttp: [
      {
        level: pinoLevel(config.logLevel),
        mixin: () => ({ ...currentLogContext() }),
        autoLogging: { ignore: (req: IncomingMessage) => /^\/(healthz|readyz|metrics)\b/.test(req.url ?? '') },
        // never log credentials: the API key headers and the WebSocket ?key= are redacted
        redact: { paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.query.key'], censor: '[redacted]' },
        serializers: {
          req: (req: IncomingMessage & { id?: unknown }) => ({
            id: req.id,
            method: req.method,
            url: (req.url ?? '').replace(/([?&]key=)[^&]*/, '$1[redacted]'),
          }),
          res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
        },
      },
      stream,
    ],
  };
}
