// Delivers outbox records to the psp (psp.process) until each is acknowledged, then completes its transaction.
// Runs from onApplicationBootstrap; on shutdown it finishes the batch in flight and stops. Records a crashed
// process had claimed are taken again once their lease expires; psp.process is idempotent by transaction id,
// so a redelivery never pays twice.
import { backoffDelay } from '../../platform/backoff.util.js';
import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { BootContext } from '../../platform/boot-context.js';
import type { SettingsOf } from '../../platform/config/settings.js';
import { Random } from '../../platform/clock.js';
import { AppError } from '../../platform/errors/app-error.js';
import { createLogger } from '../../platform/logging/logger.js';
import { newRequestId, requestContext } from '../../platform/logging/request-context.js';
import { PspClient } from '../psp/contract.js';
import { OutboxRepository, type ClaimedRecord } from './outbox.repository.js';
import { isTransient } from './retry.policy.js';
import { transactionSettings } from './transaction.settings.js';

@Injectable()
export class OutboxDispatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = createLogger('outbox');
  private readonly settings: SettingsOf<typeof transactionSettings>;
  private readonly callTimeoutMs: number;
  private running?: Promise<void>;
  private stopping = false;
  private poked = false;
  private wake?: () => void;

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly psp: PspClient,
    private readonly random: Random,
    boot: BootContext,
  ) {
    this.settings = boot.settings(transactionSettings);
    // A call must end well inside the lease, or another replica could take the record while it is in flight.
    this.callTimeoutMs = Math.min(boot.platform.rpcTimeoutMs, Math.floor(this.settings.leaseMs / 2));
  }

  onApplicationBootstrap(): void {
    if (!this.settings.dispatch) return;
    this.running = this.loop();
    this.log.info(
      { batchSize: this.settings.batchSize, leaseMs: this.settings.leaseMs },
      'outbox dispatcher started',
    );
  }

  /** New work was committed here: look now rather than at the next poll. */
  poke(): void {
    this.poked = true;
    this.wake?.();
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.running) return;
    this.stopping = true;
    this.wake?.();
    await this.running;
    this.log.info('stopped outbox dispatcher');
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      let claimed = 0;
      try {
        claimed = await this.dispatchBatch();
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'outbox batch failed');
      }
      if (claimed < this.settings.batchSize && !this.stopping) await this.idle();
    }
  }

  private idle(): Promise<void> {
    if (this.poked) {
      this.poked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.settings.pollMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        this.poked = false;
        done();
      };
    });
  }

  /** Claims due records, delivers them concurrently and settles them; returns how many it claimed. */
  async dispatchBatch(): Promise<number> {
    const records = await this.outbox.claim(this.settings.batchSize, this.settings.leaseMs);
    if (records.length === 0) return 0;
    const acknowledged: string[] = [];
    // allSettled: one record's bookkeeping failure must not lose the others' acknowledgements.
    await Promise.allSettled(
      records.map((r) =>
        requestContext.run({ requestId: r.requestId ?? newRequestId() }, async () => {
          if (await this.deliver(r)) acknowledged.push(r.id);
        }),
      ),
    );
    await this.outbox.complete(acknowledged);
    return records.length;
  }

  /** True when the psp acknowledged; otherwise the record is failed or rescheduled here. */
  private async deliver(r: ClaimedRecord): Promise<boolean> {
    try {
      await this.psp.process(r.payload, { timeoutMs: this.callTimeoutMs });
      return true;
    } catch (err) {
      const e = err instanceof AppError ? err : new AppError(502, 'rpc_error', String(err));
      if (!isTransient(e)) {
        this.log.warn({ transactionId: r.transactionId, code: e.code, reason: e.message }, 'payment refused');
        await this.outbox.fail(r.id, e.message);
        return false;
      }
      const { retryMinMs: initialMs, retryMaxMs: maxMs } = this.settings;
      const delay = backoffDelay(r.attempts, { initialMs, maxMs }, () => this.random.next());
      this.log.warn(
        { transactionId: r.transactionId, attempt: r.attempts, retryInMs: delay, code: e.code },
        'payment delivery failed; will retry',
      );
      await this.outbox.retryLater(r.id, delay, `${e.code}: ${e.message}`);
      return false;
    }
  }
}
