import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'lipsync:isPublic';

/** Marks a controller or route as open without an API key (health, readiness, metrics). */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);
