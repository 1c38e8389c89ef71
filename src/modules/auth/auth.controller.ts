// HTTP and RPC doors of auth: POST /auth/token (the original's login) and the auth.verify pattern.
import { Body, Controller, Header, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBody, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../platform/errors/app-error.js';
import { Public } from '../../platform/http/access.decorator.js';
import { RpcHandler } from '../../platform/transport/rpc-handler.decorator.js';
import { authContract, type VerifiedUser, type VerifyTokenRequest } from './contract.js';
import { LoginUseCase } from './login.use-case.js';
import { TokenService } from './token.service.js';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly login: LoginUseCase,
    private readonly tokens: TokenService,
  ) {}

  /** The body is checked by LoginUseCase, not the global DTO pipe: blank fields answer 422 as in the original. */
  @Public()
  @Post('token')
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  @ApiBody({
    schema: {
      type: 'object',
      properties: { username: { type: 'string', example: 'alice' }, password: { type: 'string' } },
    },
  })
  token(@Body() body: unknown, @Req() req: FastifyRequest): Promise<{ token: string }> {
    return this.login.execute(body, req.ip);
  }

  /** Hot path of every transaction: checked by hand rather than through a reflected DTO. */
  @RpcHandler(authContract.patterns.verify)
  verify(req: VerifyTokenRequest): VerifiedUser {
    if (typeof req?.token !== 'string')
      throw new AppError(400, 'validation_failed', 'token must be a string', [
        { field: 'token', message: 'token must be a string' },
      ]);
    return this.tokens.verify(req.token);
  }
}
