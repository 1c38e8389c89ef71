// Children one client may start per window (MASTER_START_RATE_LIMIT), besides the cap on children at once: a
// client that keeps starting and stopping children cannot keep the master's machine busy spawning. Counted in
// this master's memory, per client address (request.ip, which names a client behind a trusted proxy).
import { Injectable } from '@nestjs/common';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { BootContext } from '../../platform/boot-context.js';
import { AppError } from '../../platform/errors/app-error.js';
import { masterSettings } from './master.settings.js';

@Injectable()
export class ChildStartLimiter {
  private readonly limiter: RateLimiterMemory | undefined;

  constructor(boot: BootContext) {
    const { max, windowMs } = boot.settings(masterSettings).startRateLimit;
    this.limiter =
      max === 0 ? undefined : new RateLimiterMemory({ points: max, duration: Math.ceil(windowMs / 1000) });
  }

  /** Counts one start for the client, or throws a 429 problem with Retry-After once its window is used up. */
  async take(client: string): Promise<void> {
    if (!this.limiter) return;
    try {
      await this.limiter.consume(client);
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) throw e;
      const retryS = Math.max(1, Math.ceil(e.msBeforeNext / 1000));
      throw new AppError(
        429,
        'child_start_rate_limited',
        `Too many children started from this client; try again in ${retryS} s (MASTER_START_RATE_LIMIT)`,
        undefined,
        { 'retry-after': String(retryS) },
      );
    }
  }
}
