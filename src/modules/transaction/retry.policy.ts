// Which psp answers are worth retrying (the wait before the next attempt is the platform's backoffDelay).
import { AppError } from '../../platform/errors/app-error.js';

/** Timeouts, an unreachable peer and server-side errors may pass; a 4xx refusal will not (except 408/429). */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof AppError)) return true;
  if (err.status === 408 || err.status === 429) return true;
  return err.status >= 500;
}
