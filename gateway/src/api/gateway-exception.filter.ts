import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { mapError } from './error-mapping';
import { clearFileHeaders } from './send-file.util';

/** The one exception filter: every error becomes `{ error: { code, message, jobId? } }` with the code's status; no stacks. */
@Catch()
export class GatewayExceptionFilter implements ExceptionFilter {
  private readonly log = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const req = host.switchToHttp().getRequest<{ method?: string; url?: string }>();
    const mapped = mapError(exception);
    if (mapped.unexpected) {
      this.log.error(
        `${req.method} ${req.url} → ${mapped.status}: ${exception instanceof Error ? exception.message : String(exception)}`,
        exception instanceof Error ? exception.stack : undefined,
      );
    }
    if (res.headersSent) {
      // Mid-stream failure: the only honest signal left is to cut the connection.
      res.destroy();
      return;
    }
    // A failed file send (bad range, vanished file) may have set video headers already.
    clearFileHeaders(res);
    res.status(mapped.status).json(mapped.body);
  }
}
