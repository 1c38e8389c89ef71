// Exponential backoff with jitter: the one schedule for every retry and reconnect, so callers that fail together
// (every client of a peer that restarted) spread out instead of retrying in lockstep. Hand-written rather than
// exponential-backoff, which wraps a retried call: most callers here own a timer or a sleep and need only the delay.

export interface BackoffPolicy {
  /** Ceiling of the first wait. */
  initialMs: number;
  /** The ceiling stops doubling here. */
  maxMs: number;
}

/**
 * The wait before retry `attempt` (1 = the first): "equal jitter", a random point in the upper half of
 * min(maxMs, initialMs * 2^(attempt - 1)), so waits still grow while no two callers keep the same pace.
 */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/** The same schedule for a loop that retries until it succeeds: next() for each failure, reset() on success. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly policy: BackoffPolicy,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    this.attempt++;
    return backoffDelay(this.attempt, this.policy, this.random);
  }

  reset(): void {
    this.attempt = 0;
  }
}
