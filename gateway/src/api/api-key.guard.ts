import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { GatewayError } from '../common/errors';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../common/tokens';
import { extractApiKey, isValidApiKey } from './api-key.util';
import { IS_PUBLIC } from './public.decorator';

/** Requires a configured API key on every route not marked @Public(); open when API_KEYS is empty. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (this.config.apiKeys.length === 0) return true;
    const open = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [context.getHandler(), context.getClass()]);
    if (open) return true;
    const req = context.switchToHttp().getRequest<Request>();
    if (!isValidApiKey(extractApiKey(req.headers), this.config.apiKeys)) {
      throw new GatewayError('UNAUTHORIZED', 'a valid API key is required (Authorization: Bearer <key> or X-API-Key)');
    }
    return true;
  }
}
