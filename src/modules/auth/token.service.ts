// Issues and verifies the HS256 JWTs. Verification accepts HS256 only, so `alg: none`, RS256/HS512 tokens, bad
// signatures and tokens of another secret are all invalid. Production's secret policy is checked with the settings.
import { createSecretKey, randomBytes } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';
import { AppError } from '../../platform/errors/app-error.js';
import { TOKEN_ERRORS, type VerifiedUser } from './contract.js';
import { MIN_SECRET_BYTES } from './auth.settings.js';

export interface TokenSubject {
  id: number;
  username: string;
  enabled: boolean;
}

export interface TokenClaims {
  user_id: number;
  username: string;
  enabled: boolean;
  sub: string;
  iat: number;
  exp: number;
}

/**
 * The secret to sign with: the configured one, or outside production (where the settings policy allows it to be
 * missing) a random per-start secret with a warning, so `npm start` works out of the box.
 */
export function resolveJwtSecret(
  configured: string | undefined,
  warn: (message: string) => void,
  random: (n: number) => Buffer = randomBytes,
): string {
  if (configured === undefined) {
    warn('JWT_SECRET is not set: using a random secret for this process; tokens die with it');
    return random(MIN_SECRET_BYTES).toString('base64url');
  }
  if (Buffer.byteLength(configured, 'utf8') < MIN_SECRET_BYTES)
    warn(`JWT_SECRET is shorter than ${MIN_SECRET_BYTES} bytes; fine for development only`);
  return configured;
}

const invalid = () => new AppError(401, TOKEN_ERRORS.invalid, 'Token is invalid');

export class TokenService {
  private readonly jwt: JwtService;

  constructor(
    secret: string,
    private readonly ttlS: number,
    private readonly nowS: () => number,
  ) {
    this.jwt = new JwtService({
      // A KeyObject, made once: given a string, jsonwebtoken first tries (and fails) to parse it as a PEM public
      // key on every verify, which was the most expensive step of a transaction.
      secret: createSecretKey(Buffer.from(secret, 'utf8')),
      signOptions: { algorithm: 'HS256' },
      verifyOptions: { algorithms: ['HS256'] },
    });
  }

  issue(user: TokenSubject): string {
    const iat = this.nowS();
    const claims: TokenClaims = {
      user_id: user.id,
      username: user.username,
      enabled: user.enabled,
      sub: String(user.id),
      iat,
      exp: iat + this.ttlS,
    };
    return this.jwt.sign(claims);
  }

  /** The user a token speaks for, or a 401 AppError coded token_expired / token_invalid. */
  verify(token: string): VerifiedUser {
    let claims: Partial<TokenClaims>;
    try {
      claims = this.jwt.verify<Partial<TokenClaims>>(token, {
        algorithms: ['HS256'],
        clockTimestamp: this.nowS(),
      });
    } catch (err) {
      if ((err as Error).name === 'TokenExpiredError')
        throw new AppError(401, TOKEN_ERRORS.expired, 'Token has expired');
      throw invalid();
    }
    const { user_id, username, enabled, sub, exp } = claims;
    if (
      !Number.isSafeInteger(user_id) ||
      typeof username !== 'string' ||
      typeof enabled !== 'boolean' ||
      sub !== String(user_id) ||
      typeof exp !== 'number'
    ) {
      throw invalid();
    }
    return { user_id: user_id!, username, enabled, exp };
  }
}
