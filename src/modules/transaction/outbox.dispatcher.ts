// Delivers outbox records to the psp (psp.process) until each is acknowledged, then completes its transaction.
// Runs from onApplicationBootstrap; on shutdown it finishes the batches in flight and stops. One round claims,
// delivers and settles a batch; while rounds come back full, up to OUTBOX_CONCURRENCY of them run at once (each
// claims its own records), so a backlog drains in parallel and an idle queue costs one poll. Records a crashed
// process had claimed are taken again once their lease expires; psp.process is idempotent by transaction id,
// so a redelivery never pays twice.
import { backoffDelay } from '../../platform/backoff.util.js';
import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { BootContext } from '../../platform/boot-context.js';
import type { SettingsOf } from '../../platform/config/settings.js';
import { Random } from '../../platform/clock.js';
import { AppError } from '../../platform/errors/app-error.js';
import { createLogger } from '../../platform/logging/logger.js';
import { newRequestId, withRequest } from '../../platform/logging/request-context.js';
import { SpanKind, context, trace } from '@opentelemetry/api';
import { extractTraceContext, failSpan, platformTracer } from '../../platform/tracing/tracing.js';
import { PspClient } from '../psp/contract.js';
import { OutboxRepository, type ClaimedRecord } from './outbox.repository.js';
import { isTransient } from './retry.policy.js';
import { transactionSettings } from './transaction.settings.js';

/** The delivery span's attributes, by the messaging conventions (the outbox is the queue, psp.process its target). */
const DELIVERY_ATTRIBUTES = {
  'messaging.system': 'outbox',
  'messaging.operation.type': 'send',
  'messaging.operation.name': 'deliver',
  'messaging.destination.name': 'psp.process',
};

@Injectable()
export class OutboxDispatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = createLogger('outbox');
  private readonly settings: SettingsOf<typeof transactionSettings>;
  private readonly callTimeoutMs: number;
  private readonly workers: Array<Promise<void>> = [];
  private busy = 0;
  private stopping = false;
  private poked = false;
  private readonly sleeping = new Set<() => void>();

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
    for (let i = 0; i < this.settings.concurrency; i++) this.workers.push(this.loop(i === 0));
    this.log.info(
      {
        batchSize: this.settings.batchSize,
        concurrency: this.settings.concurrency,
        leaseMs: this.settings.leaseMs,
      },
      'outbox dispatcher started',
    );
  }

  /** New work was committed here: look now rather than at the next poll. */
  poke(): void {
    if (this.busy > 0) this.poked = true;
    else this.wakeOne();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.workers.length === 0) return;
    this.stopping = true;
    for (const wake of [...this.sleeping]) wake();
    await Promise.all(this.workers);
    this.log.info('stopped outbox dispatcher');
  }

  /** The first worker polls; the others sleep until a full round says there is more than one batch of work. */
  private async loop(polls: boolean): Promise<void> {
    if (!polls) await this.sleep(false);
    while (!this.stopping) {
      this.busy++;
      let claimed = 0;
      try {
        claimed = await this.dispatchBatch();
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'outbox batch failed');
      } finally {
        this.busy--;
      }
      if (this.stopping) break;
      if (claimed === this.settings.batchSize) this.wakeOne();
      else if (this.poked) this.poked = false;
      else await this.sleep(polls);
    }
  }

  private wakeOne(): void {
    const [wake] = this.sleeping;
    wake?.();
  }

  /** Until woken, or for one poll interval when `polls`. */
  private sleep(polls: boolean): Promise<void> {
    return new Promise((resolve) => {
      const timer = polls ? setTimeout(wake, this.settings.pollMs) : undefined;
      const sleeping = this.sleeping;
      sleeping.add(wake);
      function wake() {
        clearTimeout(timer);
        sleeping.delete(wake);
        resolve();
      }
    });
  }

  /** Claims due records, delivers them concurrently and settles them; returns how many it claimed. */
  async dispatchBatch(): Promise<number> {
    const records = await this.outbox.claim(this.settings.batchSize, this.settings.leaseMs);
    if (records.length === 0) return 0;
    const acknowledged: string[] = [];
    // allSettled: one record's bookkeeping failure must not lose the others' acknowledgements.
    await Promise.allSettled(
      records.map((r) => {
        // The delivery continues the trace of the request that created the record, however much later it runs.
        const span = platformTracer().startSpan(
          'outbox deliver',
          { kind: SpanKind.PRODUCER, attributes: DELIVERY_ATTRIBUTES },
          extractTraceContext({ traceparent: r.traceparent }),
        );
        if (span.isRecording()) span.setAttribute('messaging.message.id', r.id);
        const ctx = withRequest(trace.setSpan(context.active(), span), {
          requestId: r.requestId ?? newRequestId(),
        });
        return context.with(ctx, async () => {
          try {
            if (await this.deliver(r)) acknowledged.push(r.id);
            else failSpan(span, 'not_delivered', true);
          } finally {
            span.end();
          }
        });
      }),
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
