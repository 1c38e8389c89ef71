// Issues and verifies the HS256 JWTs. Verification accepts HS256 only, so `alg: none`, RS256/HS512 tokens, bad
// signatures and tokens of another secret are all invalid. A validly signed token must also be one this service
// could have issued: its issuer and audience, a lifetime no longer than JWT_TTL_S, not issued in the future, a
// real user id, and no critical header extension (none is understood). The clock skew allowed between roles is
// JWT_CLOCK_SKEW_S. Production's secret policy is checked with the settings.
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
  iss: string;
  aud: string;
  iat: number;
  exp: number;
}

export interface TokenPolicy {
  ttlS: number;
  issuer: string;
  audience: string;
  /** Seconds a peer's clock may be ahead: for a token's iat, and on top of ttlS for its lifetime. */
  skewS: number;
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
    private readonly policy: TokenPolicy,
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
      iss: this.policy.issuer,
      aud: this.policy.audience,
      iat,
      exp: iat + this.policy.ttlS,
    };
    return this.jwt.sign(claims);
  }

  /**
   * The user a token speaks for, or a 401 AppError coded token_expired / token_invalid. The answer's `exp` is the
   * token's, but never more than JWT_TTL_S from now: a caller that reuses the answer (the transaction's token
   * cache) stops within JWT_TTL_S of a secret rotation, whatever the token claims.
   */
  verify(token: string): VerifiedUser {
    const now = this.nowS();
    const { ttlS, issuer, audience, skewS } = this.policy;
    let header: { crit?: unknown };
    let claims: Partial<TokenClaims>;
    try {
      ({ header, payload: claims } = this.jwt.verify(token, {
        algorithms: ['HS256'],
        clockTimestamp: now,
        issuer,
        audience,
        complete: true,
      }) as unknown as { header: { crit?: unknown }; payload: Partial<TokenClaims> });
    } catch (err) {
      if ((err as Error).name === 'TokenExpiredError')
        throw new AppError(401, TOKEN_ERRORS.expired, 'Token has expired');
      throw invalid();
    }
    const { user_id, username, enabled, sub, iat, exp } = claims;
    if (
      header.crit !== undefined ||
      !Number.isSafeInteger(user_id) ||
      user_id! < 1 ||
      typeof username !== 'string' ||
      typeof enabled !== 'boolean' ||
      sub !== String(user_id) ||
      typeof iat !== 'number' ||
      typeof exp !== 'number' ||
      iat > now + skewS ||
      exp - iat > ttlS + skewS
    ) {
      throw invalid();
    }
    return { user_id: user_id!, username, enabled, exp: Math.min(exp, now + ttlS) };
  }
}
