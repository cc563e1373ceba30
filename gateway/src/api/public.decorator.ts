import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';

export const IS_PUBLIC = 'lipsync:isPublic';
/** Operation extension setupSwagger turns into `security: []` (nestjs/swagger cannot emit an empty list itself). */
export const PUBLIC_OPERATION_EXTENSION = 'x-lipsync-public';
// nestjs/swagger's metadata key for @ApiSecurity; an empty list on a controller becomes `security: []`.
const SWAGGER_SECURITY_KEY = 'swagger/apiSecurity';

/**
 * Marks a controller or route as open without an API key (health, readiness, metrics). The same marker
 * drives the API-key guard and the OpenAPI document (`security: []`), so the two cannot disagree.
 */
export const Public = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(IS_PUBLIC, true), (target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
    if (descriptor) ApiExtension(PUBLIC_OPERATION_EXTENSION, true)(target, key, descriptor);
    else Reflect.defineMetadata(SWAGGER_SECURITY_KEY, [], target);
  });
