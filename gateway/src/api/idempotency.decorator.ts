import { applyDecorators, Type } from '@nestjs/common';
import { ApiHeader, ApiResponse } from '@nestjs/swagger';
import type { Response } from 'express';
import type { IdempotentOutcome } from '../idempotency/idempotency.service';

/** Documents the Idempotency-Key header and the 200 replay answer of a create route. */
export const ApiIdempotency = (type: Type<unknown>, replayDescription: string): MethodDecorator =>
  applyDecorators(
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description:
        'Makes the request safe to retry for 24 h: the same key with the same request answers 200 with what the first one ' +
        'created (same id, header Idempotent-Replayed: true); with a different request it is 422 IDEMPOTENCY_MISMATCH; while the ' +
        'first is still being processed elsewhere, 409 CONFLICT. Keys are scoped per API key; 1–255 visible ASCII characters (e.g. a UUID).',
      schema: { type: 'string', maxLength: 255, example: '8e0f5d7c-1b2a-4c3d-9e8f-7a6b5c4d3e2f' },
    }),
    ApiResponse({ status: 200, type, description: replayDescription }),
  );

/** A replayed answer is 200 with Idempotent-Replayed: true; a fresh one keeps the route's status. */
export function markReplay<T>(res: Response, out: IdempotentOutcome<T>): T {
  if (out.replayed) {
    res.status(200);
    res.setHeader('Idempotent-Replayed', 'true');
  }
  return out.body;
}
