// Transaction API and outbox dispatcher settings.
import { bool, int } from '../../platform/config/parsers.js';
import { defineSettings } from '../../platform/config/settings.js';

export const transactionSettings = defineSettings({
  /** Run the outbox dispatcher in this process (an API-only replica can turn it off). */
  dispatch: { env: 'OUTBOX_DISPATCH', default: true, parse: bool() },
  batchSize: { env: 'OUTBOX_BATCH_SIZE', default: 100, parse: int({ min: 1, max: 1000 }) },
  /** Most rounds (claim, deliver, settle a batch) in flight at once while a backlog lasts. */
  concurrency: { env: 'OUTBOX_CONCURRENCY', default: 4, parse: int({ min: 1, max: 32 }) },
  /** How often an idle dispatcher looks for work written by other replicas or due for a retry. */
  pollMs: { env: 'OUTBOX_POLL_MS', default: 500, parse: int({ min: 10 }) },
  /** How long a claim lasts: a crashed replica's claims expire after this, and another replica takes over. */
  leaseMs: { env: 'OUTBOX_LEASE_MS', default: 30_000, parse: int({ min: 100 }) },
  retryMinMs: { env: 'OUTBOX_RETRY_MIN_MS', default: 250, parse: int({ min: 1 }) },
  retryMaxMs: { env: 'OUTBOX_RETRY_MAX_MS', default: 30_000, parse: int({ min: 1 }) },
});
