// Auth settings. JWT_SECRET is read by this module only; production needs a real one (checked with the settings).
import { bool, int, parseGoDuration, str } from '../../platform/config/parsers.js';
import { defineSettings } from '../../platform/config/settings.js';

export interface RateLimit {
  /** Attempts allowed per window; 0 turns the limit off. */
  max: number;
  windowMs: number;
}

/** `10/60s`, `10/1m`, `5 / 30s`, or `off`. */
export function parseRateLimit(raw: unknown): RateLimit {
  const text = String(raw).trim().toLowerCase();
  if (text === 'off' || text === '0') return { max: 0, windowMs: 0 };
  const m = /^(\d+)\s*\/\s*(\S+)$/.exec(text);
  if (!m) throw new Error('must be <count>/<window>, e.g. 10/60s or 10/1m, or off');
  const max = Number(m[1]);
  const windowMs = parseGoDuration(m[2]);
  if (!Number.isSafeInteger(max) || max < 1) throw new Error('count must be a positive integer');
  if (windowMs < 1000) throw new Error('window must be at least 1s');
  return { max, windowMs };
}

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
