/**
 * Stable error codes of the gateway (architecture.md §4). Every failure that reaches a user (HTTP
 * response, CLI line, job record) carries exactly one of these codes. The HTTP status lives here,
 * in one table, so the exception filter and the CLI cannot disagree.
 */
export const ERROR_HTTP_STATUS = {
  VALIDATION_FAILED: 400,
  BAD_MESSAGE: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  SESSION_TIMEOUT: 408,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  URL_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA: 415,
  RANGE_NOT_SATISFIABLE: 416,
  NO_FACE_FOUND: 422,
  IMAGE_UNDECODABLE: 422,
  IMAGE_TOO_LARGE: 422,
  VIDEO_TOO_LONG: 422,
  AUDIO_UNDECODABLE: 422,
  AUDIO_EMPTY: 422,
  AUDIO_TOO_LONG: 422,
  NO_AUDIO_STREAM: 422,
  BAD_CHECKPOINT: 422,
  URL_FORBIDDEN: 422,
  URL_UNREACHABLE: 422,
  IDEMPOTENCY_MISMATCH: 422,
  RATE_LIMITED: 429,
  QUEUE_FULL: 429,
  SESSION_LIMIT: 429,
  SLOW_CONSUMER: 429,
  CANCELLED: 499,
  INTERNAL: 500,
  JOB_INTERRUPTED: 500,
  JOB_ATTEMPTS_EXHAUSTED: 500,
  FFMPEG_FAILED: 500,
  OUTPUT_UNWRITABLE: 500,
  INFERENCE_FAILED: 502,
  BACKEND_UNAVAILABLE: 503,
  MODEL_CONTRACT_MISMATCH: 503,
  DEADLINE_EXCEEDED: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_HTTP_STATUS;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_HTTP_STATUS, value);
}

/** The one error type of the gateway: a stable code, a human message, optional safe details. */
export class GatewayError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GatewayError';
  }

  get httpStatus(): number {
    return ERROR_HTTP_STATUS[this.code];
  }
}

/** Wraps anything thrown into a GatewayError; unknown errors become INTERNAL (message kept for logs only). */
export function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  if (err instanceof Error && err.name === 'AbortError') {
    return new GatewayError('CANCELLED', 'the operation was cancelled', undefined, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new GatewayError('INTERNAL', message, undefined, { cause: err });
}

/** Throws CANCELLED if the signal is aborted (call between pipeline steps). */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new GatewayError('CANCELLED', 'the operation was cancelled');
}
