import { HttpException, HttpStatus } from '@nestjs/common';
import { ERROR_HTTP_STATUS, ErrorCode, GatewayError, isErrorCode } from '../common/errors';
import { redactPaths } from '../common/redact';

/** The JSON error body of every failed request (architecture.md §4). */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; jobId?: string };
}

export interface MappedError {
  status: number;
  body: ErrorBody;
  /** true when the cause was unexpected and its details belong in the log, not the response */
  unexpected: boolean;
}

/** Nest/Express HTTP statuses that have a stable gateway code of their own. */
const HTTP_STATUS_CODES: Record<number, ErrorCode> = {
  [HttpStatus.BAD_REQUEST]: 'VALIDATION_FAILED',
  [HttpStatus.UNAUTHORIZED]: 'UNAUTHORIZED',
  [HttpStatus.FORBIDDEN]: 'UNAUTHORIZED',
  [HttpStatus.NOT_FOUND]: 'NOT_FOUND',
  [HttpStatus.METHOD_NOT_ALLOWED]: 'NOT_FOUND',
  [HttpStatus.CONFLICT]: 'CONFLICT',
  [HttpStatus.PAYLOAD_TOO_LARGE]: 'PAYLOAD_TOO_LARGE',
  [HttpStatus.UNSUPPORTED_MEDIA_TYPE]: 'UNSUPPORTED_MEDIA',
  [HttpStatus.REQUESTED_RANGE_NOT_SATISFIABLE]: 'RANGE_NOT_SATISFIABLE',
  [HttpStatus.TOO_MANY_REQUESTS]: 'RATE_LIMITED',
  [HttpStatus.SERVICE_UNAVAILABLE]: 'BACKEND_UNAVAILABLE',
  [HttpStatus.GATEWAY_TIMEOUT]: 'DEADLINE_EXCEEDED',
};

/** Text of a Nest HttpException response: validation messages arrive as an array. */
function httpExceptionMessage(err: HttpException): string {
  const res = err.getResponse();
  if (typeof res === 'string') return res;
  const msg = (res as { message?: unknown }).message;
  if (Array.isArray(msg)) return msg.map(String).join('; ');
  if (typeof msg === 'string') return msg;
  return err.message;
}

/** Errors thrown by Express middleware (body-parser) carry a numeric status and an `expose` flag. */
function expressStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const status = (err as { status?: unknown; statusCode?: unknown }).status ?? (err as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : undefined;
}

function body(code: ErrorCode, message: string, jobId?: string): ErrorBody {
  return { error: jobId ? { code, message, jobId } : { code, message } };
}

/** Maps anything thrown while serving a request to one HTTP status and the gateway's error body. */
export function mapError(err: unknown, jobId?: string): MappedError {
  if (err instanceof GatewayError) {
    const id = jobId ?? (typeof err.details?.jobId === 'string' ? err.details.jobId : undefined);
    const internal = err.code === 'INTERNAL';
    // INTERNAL messages come from unknown errors (paths, library text): they go to the log only.
    // Other messages name inputs by role; paths that slip through are redacted (the log has them).
    return {
      status: err.httpStatus,
      body: body(err.code, internal ? 'internal error' : redactPaths(err.message), id),
      unexpected: internal,
    };
  }
  const status = err instanceof HttpException ? err.getStatus() : expressStatus(err);
  if (status !== undefined && status < 500) {
    const code = HTTP_STATUS_CODES[status] ?? 'VALIDATION_FAILED';
    const message =
      err instanceof HttpException ? httpExceptionMessage(err) : err instanceof Error && err.message ? err.message : 'bad request';
    return { status: ERROR_HTTP_STATUS[code], body: body(code, message, jobId), unexpected: false };
  }
  if (status !== undefined && HTTP_STATUS_CODES[status]) {
    const code = HTTP_STATUS_CODES[status];
    return {
      status: ERROR_HTTP_STATUS[code],
      body: body(code, code === 'BACKEND_UNAVAILABLE' ? 'service unavailable' : 'deadline exceeded', jobId),
      unexpected: false,
    };
  }
  // Never leak internals (messages of unknown errors can hold paths or stack fragments).
  return { status: 500, body: body('INTERNAL', 'internal error', jobId), unexpected: true };
}

/** A job's stored error as the public `{code, message}` pair. */
export function publicError(code: string, message: string): { code: ErrorCode; message: string } {
  return { code: isErrorCode(code) ? code : 'INTERNAL', message: redactPaths(message) };
}
