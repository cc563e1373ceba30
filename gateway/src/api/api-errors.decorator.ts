import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ERROR_HTTP_STATUS } from '../common/errors';
import { ErrorResponseDto } from './dto/responses.dto';

/** The error codes each HTTP status can carry, listed in the OpenAPI description. */
function codesFor(status: number): string {
  const codes = Object.entries(ERROR_HTTP_STATUS)
    .filter(([, s]) => s === status)
    .map(([c]) => c);
  if (status === 409) codes.push('(job not finished / failed)');
  return codes.join(', ') || 'error';
}

/**
 * Documents error responses. Every error body is JSON (ErrorResponseDto), also on routes whose success
 * is a video: the content type is spelled out here so a route's @ApiProduces never relabels errors.
 */
export const ApiErrors = (...statuses: number[]): MethodDecorator & ClassDecorator =>
  applyDecorators(
    ApiExtraModels(ErrorResponseDto),
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: codesFor(status),
        content: { 'application/json': { schema: { $ref: getSchemaPath(ErrorResponseDto) } } },
      }),
    ),
  );

/** Documents a binary MP4 success response (use instead of @ApiProduces, which would also relabel the errors). */
export const ApiVideoResponse = (status: number, description: string): MethodDecorator & ClassDecorator =>
  ApiResponse({ status, description, content: { 'video/mp4': { schema: { type: 'string', format: 'binary' } } } });
