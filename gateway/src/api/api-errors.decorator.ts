import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ERROR_HTTP_STATUS } from '../common/errors';
import { ErrorResponseDto } from './dto/responses.dto';

/** The error codes each HTTP status can carry, listed in the OpenAPI description. */
function codesFor(status: number): string {
  const codes = Object.entries(ERROR_HTTP_STATUS).filter(([, s]) => s === status).map(([c]) => c);
  if (status === 409) codes.push('(job not finished / failed)');
  return codes.join(', ');
}

/** Documents error responses (all share ErrorResponseDto). */
export const ApiErrors = (...statuses: number[]): MethodDecorator =>
  applyDecorators(...statuses.map((status) => ApiResponse({ status, type: ErrorResponseDto, description: codesFor(status) })));
