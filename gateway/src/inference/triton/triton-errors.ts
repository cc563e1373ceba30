import { ErrorCode, GatewayError } from '../../common/errors';

/**
 * gRPC status codes (numeric, from the gRPC spec). Kept here rather than imported from
 * @grpc/grpc-js so that only triton-grpc.client.ts depends on the transport library.
 */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

const STATUS_NAME: Record<number, string> = Object.fromEntries(Object.entries(GrpcStatus).map(([k, v]) => [v, k]));

export function grpcStatusName(code: number): string {
  return STATUS_NAME[code] ?? `STATUS_${code}`;
}

/**
 * The one mapping from a gRPC status to a gateway error code. Triton reports a full queue and a
 * queue timeout as UNAVAILABLE (triton.md §1.10), so those become BACKEND_UNAVAILABLE (503) too.
 * An unknown model (NOT_FOUND) is a deployment state, also 503. Everything else is a failed inference.
 */
export function gatewayCodeForGrpcStatus(code: number): ErrorCode {
  switch (code) {
    case GrpcStatus.UNAVAILABLE:
    case GrpcStatus.NOT_FOUND:
      return 'BACKEND_UNAVAILABLE';
    case GrpcStatus.DEADLINE_EXCEEDED:
      return 'DEADLINE_EXCEEDED';
    case GrpcStatus.CANCELLED:
      return 'CANCELLED';
    default:
      return 'INFERENCE_FAILED';
  }
}

/** Only UNAVAILABLE is retried: the request never ran or ran without side effects (inference is pure). */
export function isRetryableGrpcStatus(code: number): boolean {
  return code === GrpcStatus.UNAVAILABLE;
}

export interface GrpcErrorLike {
  code?: number;
  details?: string;
  message?: string;
}

/** Turns a grpc-js ServiceError into a GatewayError; the gRPC code stays in details.grpcCode for retry decisions. */
export function toTritonError(err: GrpcErrorLike, ctx: { url: string; rpc: string }): GatewayError {
  const code = typeof err.code === 'number' ? err.code : GrpcStatus.UNKNOWN;
  const gatewayCode = gatewayCodeForGrpcStatus(code);
  const detail = (err.details || err.message || 'no details').split('\n')[0];
  const message = `Triton ${ctx.rpc} at ${ctx.url} failed: ${grpcStatusName(code)}: ${detail}`;
  return new GatewayError(gatewayCode, message, { grpcCode: code, rpc: ctx.rpc }, { cause: err });
}

/**
 * What to do with a failed ModelInfer. CANCELLED while our own signal is not aborted means the
 * server ended the call (e.g. Triton shutting down or restarting): retryable like UNAVAILABLE, and
 * reported as BACKEND_UNAVAILABLE if it is the final answer.
 */
export function classifyInferFailure(err: unknown, clientAborted: boolean): { retryable: boolean; error: unknown } {
  const code = grpcCodeOf(err);
  if (code === undefined) return { retryable: false, error: err };
  if (code === GrpcStatus.CANCELLED && !clientAborted) {
    const e = err as GatewayError;
    const error = new GatewayError('BACKEND_UNAVAILABLE', `${e.message} (ended by the server, not by the client)`, e.details, { cause: e });
    return { retryable: true, error };
  }
  return { retryable: isRetryableGrpcStatus(code), error: err };
}

/** The gRPC status a GatewayError came from, if it came from one. */
export function grpcCodeOf(err: unknown): number | undefined {
  if (!(err instanceof GatewayError)) return undefined;
  const code = err.details?.grpcCode;
  return typeof code === 'number' ? code : undefined;
}
