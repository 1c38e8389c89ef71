// POST /auth/token: rate limits per client address and per username, the original's 422 answers, then one 401 for
// an unknown user and a wrong password alike. Unknown users are checked against a dummy hash so both cost the same time.
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { AppError } from '../../platform/errors/app-error.js';
import { createLogger } from '../../platform/logging/logger.js';
import { LoginRateLimiter } from './login-rate.limiter.js';
import { PasswordHasher } from './password.hasher.js';
import { TokenService } from './token.service.js';
import { UsersRepository } from './users.repository.js';

export interface Credentials {
  username: string;
  password: string;
}

/** The original's checks on a loose JSON body; anything that is not a non-blank string is blank. */
export function parseCredentials(body: unknown): Credentials {
  const b =
    body !== null && typeof body === 'object' && !Array.isArray(body)
      ? (body as Record<string, unknown>)
      : {};
  const blank = (v: unknown) => typeof v !== 'string' || v.trim() === '';
  if (blank(b.username)) throw new AppError(422, 'username_blank', 'Username is blank');
  if (blank(b.password)) throw new AppError(422, 'password_blank', 'Password is blank');
  return { username: b.username as string, password: b.password as string };
}

@Injectable()
export class LoginUseCase implements OnModuleInit {
  private readonly log = createLogger('auth');
  private dummyHash = '';

  constructor(
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasher,
    private readonly tokens: TokenService,
    private readonly limiter: LoginRateLimiter,
  ) {}

  async onModuleInit(): Promise<void> {
    this.dummyHash = await this.hasher.hash('not-a-password-anyone-has');
  }

  async execute(body: unknown, clientAddress: string): Promise<{ token: string }> {
    this.refuseAbove(await this.limiter.attempt(clientAddress), { clientAddress });
    const { username, password } = parseCredentials(body);
    this.refuseAbove(await this.limiter.usernameWait(username), { clientAddress, username });
    const user = await this.users.findByUsername(username);
    const matches = await this.hasher.verify(password, user?.passwordHash ?? this.dummyHash);
    if (!user || !matches) {
      await this.limiter.failed(username);
      this.log.info({ clientAddress }, 'login refused');
      throw new AppError(401, 'invalid_credentials', 'Invalid credentials');
    }
    this.log.info({ userId: user.id }, 'token issued');
    return { token: this.tokens.issue(user) };
  }

  private refuseAbove(retryAfterS: number, who: { clientAddress: string; username?: string }): void {
    if (retryAfterS === 0) return;
    this.log.warn({ ...who, retryAfterS }, 'login rate limit exceeded');
    throw new AppError(429, 'rate_limited', 'Too many login attempts; try again later', undefined, {
      'retry-after': String(retryAfterS),
    });
  }
}
