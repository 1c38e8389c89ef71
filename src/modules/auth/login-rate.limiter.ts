// Login attempts per client address in fixed windows, in memory (per replica; see docs/payments.md).
// Answers how long to wait when the window is used up, for the Retry-After header.
import type { RateLimit } from './auth.settings.js';

interface Window {
  startedAt: number;
  count: number;
}

/** Above this many tracked addresses, expired windows are swept before adding another. */
const SWEEP_ABOVE = 10_000;

export class LoginRateLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly limit: RateLimit,
    private readonly nowMs: () => number,
  ) {}

  /** Counts one attempt; returns 0 when allowed, else the seconds to wait before the next one is. */
  hit(key: string): number {
    if (this.limit.max === 0) return 0;
    const now = this.nowMs();
    let w = this.windows.get(key);
    if (!w || now - w.startedAt >= this.limit.windowMs) {
      if (!w && this.windows.size >= SWEEP_ABOVE) this.sweep(now);
      w = { startedAt: now, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    if (w.count <= this.limit.max) return 0;
    return Math.max(1, Math.ceil((w.startedAt + this.limit.windowMs - now) / 1000));
  }

  get tracked(): number {
    return this.windows.size;
  }

  private sweep(now: number): void {
    for (const [key, w] of this.windows)
      if (now - w.startedAt >= this.limit.windowMs) this.windows.delete(key);
  }
}
