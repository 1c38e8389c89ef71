import { Module } from '@nestjs/common';
import { BootContext } from '../../platform/boot-context.js';
import { Clock } from '../../platform/clock.js';
import { createLogger } from '../../platform/logging/logger.js';
import { definePart } from '../../platform/part.js';
import { AuthController } from './auth.controller.js';
import { authSettings } from './auth.settings.js';
import { authContract } from './contract.js';
import { DemoUsersSeeder } from './demo-users.seeder.js';
import { DataSource } from 'typeorm';
import { LoginRateLimiter, postgresLimiters } from './login-rate.limiter.js';
import { LoginUseCase } from './login.use-case.js';
import { CreateUsers1764100000000 } from './migrations/1764100000000-create-users.js';
import { CreateLoginAttempts1764200000000 } from './migrations/1764200000000-create-login-attempts.js';
import { PasswordHasher } from './password.hasher.js';
import { resolveJwtSecret, TokenService } from './token.service.js';
import { UserEntity } from './user.entity.js';
import { UsersRepository } from './users.repository.js';

@Module({
  controllers: [AuthController],
  providers: [
    UsersRepository,
    LoginUseCase,
    DemoUsersSeeder,
    {
      provide: PasswordHasher,
      useFactory: (boot: BootContext) => new PasswordHasher(boot.settings(authSettings).scryptLogN),
      inject: [BootContext],
    },
    {
      provide: TokenService,
      useFactory: (boot: BootContext, clock: Clock) => {
        const s = boot.settings(authSettings);
        const log = createLogger('auth');
        const secret = resolveJwtSecret(s.jwtSecret, (m) => log.warn(m));
        const policy = {
          ttlS: s.jwtTtlS,
          issuer: s.jwtIssuer,
          audience: s.jwtAudience,
          skewS: s.jwtClockSkewS,
        };
        return new TokenService(secret, policy, () => Math.floor(clock.now().getTime() / 1000));
      },
      inject: [BootContext, Clock],
    },
    {
      provide: LoginRateLimiter,
      useFactory: (boot: BootContext, db: DataSource) => {
        const s = boot.settings(authSettings);
        return new LoginRateLimiter(
          postgresLimiters(db, { perAddress: s.rateLimit, perUsername: s.usernameRateLimit }),
        );
      },
      inject: [BootContext, DataSource],
    },
  ],
})
export class AuthModule {}

export const authPart = definePart({
  name: 'auth',
  module: AuthModule,
  settings: authSettings,
  entities: [UserEntity],
  migrations: [CreateUsers1764100000000, CreateLoginAttempts1764200000000],
  serves: [authContract],
});
