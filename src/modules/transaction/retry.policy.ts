// Which psp answers are worth retrying, and how long to wait before the next attempt.
import { AppError } from '../../platform/errors/app-error.js';

/** Timeouts, an unreachable peer and server-side errors may pass; a 4xx refusal will not (except 408/429). */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof AppError)) return true;
  if (err.status === 408 || err.status === 429) return true;
  return err.status >= 500;
}

/** Exponential backoff with full jitter: attempt 1 waits up to min, doubling up to max. */
export function backoffMs(attempt: number, minMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.max(minMs / 2, Math.round(ceiling * random()));
}
