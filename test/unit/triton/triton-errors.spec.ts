import { GatewayError } from '../../../gateway/src/common/errors';
import {
  classifyInferFailure,
  gatewayCodeForGrpcStatus,
  GrpcStatus,
  grpcCodeOf,
  toTritonError,
} from '../../../gateway/src/inference/triton/triton-errors';

describe('triton-errors', () => {
  it.each([
    [GrpcStatus.UNAVAILABLE, 'BACKEND_UNAVAILABLE'],
    [GrpcStatus.NOT_FOUND, 'BACKEND_UNAVAILABLE'],
    [GrpcStatus.DEADLINE_EXCEEDED, 'DEADLINE_EXCEEDED'],
    [GrpcStatus.CANCELLED, 'CANCELLED'],
    [GrpcStatus.INVALID_ARGUMENT, 'INFERENCE_FAILED'],
    [GrpcStatus.INTERNAL, 'INFERENCE_FAILED'],
    [GrpcStatus.UNKNOWN, 'INFERENCE_FAILED'],
    [GrpcStatus.RESOURCE_EXHAUSTED, 'INFERENCE_FAILED'],
    [GrpcStatus.UNIMPLEMENTED, 'INFERENCE_FAILED'],
  ])('should map gRPC status %i to %s', (status, code) => {
    expect(gatewayCodeForGrpcStatus(status)).toBe(code);
  });

  it('should name the rpc, url and status in the message and keep the gRPC code', () => {
    const err = toTritonError({ code: 14, details: 'Exceeds maximum queue size\nmore' }, { url: 'triton:8001', rpc: 'ModelInfer' });
    expect(err).toBeInstanceOf(GatewayError);
    expect(err.code).toBe('BACKEND_UNAVAILABLE');
    expect(err.message).toBe('Triton ModelInfer at triton:8001 failed: UNAVAILABLE: Exceeds maximum queue size');
    expect(grpcCodeOf(err)).toBe(14);
  });

  it('should treat an error without a code as UNKNOWN → INFERENCE_FAILED', () => {
    const err = toTritonError({ message: 'boom' }, { url: 'x:1', rpc: 'ModelInfer' });
    expect(err.code).toBe('INFERENCE_FAILED');
    expect(grpcCodeOf(err)).toBe(GrpcStatus.UNKNOWN);
  });

  it('should retry UNAVAILABLE but not INVALID_ARGUMENT or errors without a gRPC code', () => {
    const ctx = { url: 'x:1', rpc: 'ModelInfer' };
    expect(classifyInferFailure(toTritonError({ code: 14 }, ctx), false).retryable).toBe(true);
    expect(classifyInferFailure(toTritonError({ code: 3 }, ctx), false).retryable).toBe(false);
    expect(classifyInferFailure(new GatewayError('INFERENCE_FAILED', 'bad shape'), false).retryable).toBe(false);
  });

  it('should treat CANCELLED as a server-side drop (retryable, BACKEND_UNAVAILABLE) only when the client did not abort', () => {
    const cancelled = toTritonError({ code: 1, details: 'Call cancelled' }, { url: 'x:1', rpc: 'ModelInfer' });
    const byServer = classifyInferFailure(cancelled, false);
    expect(byServer.retryable).toBe(true);
    expect((byServer.error as GatewayError).code).toBe('BACKEND_UNAVAILABLE');
    const byClient = classifyInferFailure(cancelled, true);
    expect(byClient.retryable).toBe(false);
    expect((byClient.error as GatewayError).code).toBe('CANCELLED');
  });
});
