// Protects the read routes: `Authorization: Bearer <token>` checked through auth.verify (remembered until it
// expires); the user lands on the request for the handler.
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../platform/errors/app-error.js';
import type { VerifiedUser } from '../auth/contract.js';
import { bearerToken } from './transaction-request.js';
import { VerifiedTokenCache } from './verified-token.cache.js';

export type AuthenticatedRequest = FastifyRequest & { user?: VerifiedUser };

@Injectable()
export class BearerTokenGuard implements CanActivate {
  constructor(private readonly tokens: VerifiedTokenCache) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<AuthenticatedRequest>();
    const token = bearerToken(req.headers.authorization);
    if (!token)
      throw new AppError(401, 'token_missing', 'Authorization: Bearer <token> is required', undefined, {
        'www-authenticate': 'Bearer',
      });
    req.user = await this.tokens.verify(token);
    return true;
  }
}
