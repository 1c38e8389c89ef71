// Auth settings. JWT_SECRET is read by this module only; production needs a real one (checked with the settings).
import { bool, int, parseRateLimit, str } from '../../platform/config/parsers.js';
import { defineSettings } from '../../platform/config/settings.js';

export { parseRateLimit, type RateLimit } from '../../platform/config/parsers.js';

export const MIN_SECRET_BYTES = 32;

/** Production needs a JWT_SECRET of at least 32 bytes; elsewhere TokenService makes one up when it is missing. */
export function jwtSecretProblem(secret: string | undefined, production: boolean): string | undefined {
  if (!production) return undefined;
  if (secret === undefined)
    return `JWT_SECRET is required when NODE_ENV=production (at least ${MIN_SECRET_BYTES} bytes)`;
  const bytes = Buffer.byteLength(secret, 'utf8');
  if (bytes < MIN_SECRET_BYTES)
    return `JWT_SECRET is too short: ${bytes} bytes, at least ${MIN_SECRET_BYTES} are required when NODE_ENV=production`;
  return undefined;
}

export const authSettings = defineSettings(
  {
    jwtSecret: { env: 'JWT_SECRET', optional: true, secret: true, parse: str({ minLength: 1 }) },
    jwtTtlS: { env: 'JWT_TTL_S', default: 300, parse: int({ min: 1, max: 86_400 * 30 }) },
    /** The `iss` every token carries and must carry to be accepted. */
    jwtIssuer: { env: 'JWT_ISSUER', default: 'polyrole-auth', parse: str({ minLength: 1 }) },
    /** The `aud` every token carries and must carry to be accepted. */
    jwtAudience: { env: 'JWT_AUDIENCE', default: 'polyrole', parse: str({ minLength: 1 }) },
    /** How far apart the roles' clocks may be: allowed on a token's iat, and on top of JWT_TTL_S for its lifetime. */
    jwtClockSkewS: { env: 'JWT_CLOCK_SKEW_S', default: 30, parse: int({ min: 0, max: 300 }) },
    /** Login attempts per client address, shared by every auth replica. */
    rateLimit: { env: 'AUTH_RATE_LIMIT', default: { max: 10, windowMs: 60_000 }, parse: parseRateLimit },
    /** Failed logins per username, whatever the address. */
    usernameRateLimit: {
      env: 'AUTH_USERNAME_RATE_LIMIT',
      default: { max: 10, windowMs: 60_000 },
      parse: parseRateLimit,
    },
    /** Unset: seed outside production only. */
    seedDemoUsers: { env: 'AUTH_SEED_DEMO_USERS', optional: true, parse: bool() },
    /** scrypt cost as log2(N); 14 is N=16384 (16 MiB, tens of ms per hash). */
    scryptLogN: { env: 'AUTH_SCRYPT_LOG_N', default: 14, parse: int({ min: 10, max: 20 }) },
  },
  { policies: [(s, { production }) => jwtSecretProblem(s.jwtSecret as string | undefined, production)] },
);
