// POSTs JSON notifications to CALCULATOR_WEBHOOK_URL off the request path: each delivery retries with capped
// exponential backoff (jittered); a bounded number may be pending at once (beyond it a notification is refused, and logged).
import { backoffDelay } from '../../platform/backoff.util.js';
import { realScheduler, type Scheduler } from './event-store/event-buffer.js';

export interface WebhookRetry {
  attempts: number;
  initialMs: number;
  maxMs: number;
}

export interface WebhookLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface WebhookSenderOptions {
  url: string;
  log: WebhookLog;
  fetch?: typeof globalThis.fetch;
  scheduler?: Scheduler;
  retry?: WebhookRetry;
  /** Jitter of the backoff, in [0, 1); Math.random unless a spec fixes it. */
  jitter?: () => number;
  /** Per attempt. */
  timeoutMs?: number;
  maxPending?: number;
}

export const DEFAULT_WEBHOOK_RETRY: WebhookRetry = { attempts: 6, initialMs: 200, maxMs: 5000 };

export class WebhookSender {
  private readonly fetch: typeof globalThis.fetch;
  private readonly scheduler: Scheduler;
  private readonly retry: WebhookRetry;
  private readonly pending = new Set<Promise<void>>();
  /** Cancels the backoff waits of deliveries when closing. */
  private readonly sleeping = new Set<() => void>();
  private closing = false;
  delivered = 0;
  failed = 0;

  constructor(private readonly options: WebhookSenderOptions) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.scheduler = options.scheduler ?? realScheduler;
    this.retry = options.retry ?? DEFAULT_WEBHOOK_RETRY;
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Starts a delivery and returns at once. */
  send(body: object): void {
    if (this.closing || this.pending.size >= (this.options.maxPending ?? 100)) {
      this.failed += 1;
      this.options.log.error(
        { pending: this.pending.size, closing: this.closing },
        'webhook notification refused',
      );
      return;
    }
    const delivery = this.deliver(JSON.stringify(body)).finally(() => this.pending.delete(delivery));
    this.pending.add(delivery);
  }

  /** Lets pending deliveries finish for up to `deadlineMs`, then stops retrying. Resolves with what was left. */
  async close(deadlineMs: number): Promise<{ undelivered: number }> {
    this.closing = true;
    if (this.pending.size === 0) return { undelivered: 0 };
    let cancel: (() => void) | undefined;
    const deadline = new Promise<void>((resolve) => (cancel = this.scheduler.schedule(deadlineMs, resolve)));
    await Promise.race([Promise.allSettled([...this.pending]), deadline]);
    cancel?.();
    const undelivered = this.pending.size;
    for (const wake of [...this.sleeping]) wake();
    return { undelivered };
  }

  private async deliver(body: string): Promise<void> {
    const { url, log, timeoutMs = 5000 } = this.options;
    for (let attempt = 1; ; attempt++) {
      let why: string;
      try {
        const res = await this.fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        await res.body?.cancel().catch(() => undefined);
        if (res.ok) {
          this.delivered += 1;
          return;
        }
        why = `HTTP ${res.status}`;
      } catch (err) {
        why = (err as Error).message;
      }
      if (attempt >= this.retry.attempts || this.closing) {
        this.failed += 1;
        log.error({ attempt, error: why }, 'webhook notification not delivered');
        return;
      }
      const retryInMs = backoffDelay(attempt, this.retry, this.options.jitter);
      log.warn({ attempt, error: why, retryInMs }, 'webhook delivery failed; retrying');
      const woke = await this.sleep(retryInMs);
      if (!woke) {
        this.failed += 1;
        log.error({ attempt, error: why }, 'webhook notification not delivered before shutdown');
        return;
      }
    }
  }

  /** Resolves true after `ms`, or false when closing cuts the wait short. */
  private sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const wake = () => {
        this.sleeping.delete(wake);
        cancel();
        resolve(false);
      };
      const cancel = this.scheduler.schedule(ms, () => {
        this.sleeping.delete(wake);
        resolve(true);
      });
      this.sleeping.add(wake);
    });
  }
}
