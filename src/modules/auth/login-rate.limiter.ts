// Login attempts counted in auth's PostgreSQL with rate-limiter-flexible's PostgreSQL store, so every auth replica
// shares one limit and it survives a restart: per client address on every attempt, and per username on every
// failed one (credential stuffing spread over many addresses). If the database cannot answer, each replica falls
// back to counting in its own memory rather than refusing or waving through every login.
import {
  RateLimiterMemory,
  RateLimiterPostgres,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import type { DataSource } from 'typeorm';
import type { RateLimit } from './auth.settings.js';

export const LOGIN_ATTEMPTS_TABLE = 'auth_login_attempts';

/** No stored username is longer (users.username); a longer one is nobody's, and is not counted. */
const MAX_USERNAME_LENGTH = 128;

export interface LoginLimits {
  perAddress: RateLimit;
  perUsername: RateLimit;
}

type Limiter = RateLimiterAbstract | undefined;

function options(keyPrefix: string, limit: RateLimit) {
  return { keyPrefix, points: limit.max, duration: Math.ceil(limit.windowMs / 1000) };
}

/** Limiters on the shared table (created by the auth migration), each insured by one in memory. */
export function postgresLimiters(
  db: DataSource,
  limits: LoginLimits,
): { address: Limiter; username: Limiter } {
  const make = (keyPrefix: string, limit: RateLimit): Limiter =>
    limit.max === 0
      ? undefined
      : new RateLimiterPostgres({
          ...options(keyPrefix, limit),
          storeClient: db,
          storeType: 'typeorm',
          tableName: LOGIN_ATTEMPTS_TABLE,
          tableCreated: true,
          insuranceLimiter: new RateLimiterMemory(options(keyPrefix, limit)),
        });
  return { address: make('address', limits.perAddress), username: make('username', limits.perUsername) };
}

/** Limiters in this process's memory only (unit tests). */
export function memoryLimiters(limits: LoginLimits): { address: Limiter; username: Limiter } {
  const make = (keyPrefix: string, limit: RateLimit): Limiter =>
    limit.max === 0 ? undefined : new RateLimiterMemory(options(keyPrefix, limit));
  return { address: make('address', limits.perAddress), username: make('username', limits.perUsername) };
}

/** Seconds until the next attempt is allowed (Retry-After), at least 1. */
function secondsOf(res: RateLimiterRes): number {
  return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
}

export class LoginRateLimiter {
  constructor(private readonly limiters: { address: Limiter; username: Limiter }) {}

  /** Counts one attempt from an address; returns 0 when allowed, else the seconds to wait. */
  async attempt(address: string): Promise<number> {
    if (!this.limiters.address) return 0;
    try {
      await this.limiters.address.consume(address);
      return 0;
    } catch (res) {
      if (res instanceof RateLimiterRes) return secondsOf(res);
      throw res;
    }
  }

  /** 0 while a username may still try, else the seconds until it may again. */
  async usernameWait(username: string): Promise<number> {
    if (username.length > MAX_USERNAME_LENGTH) return 0;
    const res = await this.limiters.username?.get(username);
    return res && res.remainingPoints <= 0 ? secondsOf(res) : 0;
  }

  /** Counts a failed attempt against a username. */
  async failed(username: string): Promise<void> {
    if (username.length > MAX_USERNAME_LENGTH) return;
    await this.limiters.username?.consume(username).catch((res: unknown) => {
      if (!(res instanceof RateLimiterRes)) throw res;
    });
  }
}
