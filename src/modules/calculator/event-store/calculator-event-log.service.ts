// The calculator's event log as the module uses it: appends go through the bounded EventBuffer to PostgreSQL,
// readiness follows the buffer's health, the runningTotal is folded from the log, and shutdown drains the buffer.
import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { ROOT_CONTEXT, SpanKind, context, trace, type Link, type SpanContext } from '@opentelemetry/api';
import { failSpan, platformTracer } from '../../../platform/tracing/tracing.js';
import { DataSource } from 'typeorm';
import { BootContext } from '../../../platform/boot-context.js';
import { ReadinessRegistry } from '../../../platform/health/readiness.registry.js';
import { createLogger } from '../../../platform/logging/logger.js';
import { calculatorSettings } from '../calculator.settings.js';
import type { NewCalculatorEvent, StoredCalculatorEvent } from './calculator-event.types.js';
import { DrainTimeoutError, EventBuffer, type EventBufferStats } from './event-buffer.js';
import { PostgresEventStore } from './postgres-event.store.js';
import { EMPTY_RUNNING_TOTAL, foldRunningTotal, type RunningTotal } from './running-total.aggregate.js';

const log = createLogger('calculator-events');

/** Events read per query while folding the log. */
const FOLD_PAGE = 5000;
/** How long GET /calculator/stats waits for the buffer and the log before answering with what it knows. */
const STATS_WAIT_MS = 1000;

export interface StatsView {
  runningTotal: { summation: number; factorial: number; failed: number };
  /** The last stored event folded in. */
  lastSeq: string;
  /** True when the log could not be read just now: the totals are the last ones known. */
  stale: boolean;
  buffer: EventBufferStats;
}

function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Links kept per flush span (the SDK's default link limit). */
const MAX_FLUSH_LINKS = 128;

@Injectable()
export class CalculatorEventLog implements OnApplicationShutdown {
  private readonly store: PostgresEventStore;
  private readonly buffer: EventBuffer<NewCalculatorEvent>;
  /** Each buffered event's request span (weakly held: gone with the event once it is written). */
  private readonly origins = new WeakMap<NewCalculatorEvent, SpanContext>();
  private readonly healthListeners: ((healthy: boolean) => void)[] = [];
  private total: RunningTotal = EMPTY_RUNNING_TOTAL;
  private folding: Promise<RunningTotal> | undefined;

  constructor(
    private readonly boot: BootContext,
    dataSource: DataSource,
    readiness: ReadinessRegistry,
  ) {
    const settings = boot.settings(calculatorSettings);
    if (settings.eventStoreMaxBuffer < settings.eventStoreBatchSize) {
      throw new Error(
        `EVENTSTORE_MAX_BUFFER (${settings.eventStoreMaxBuffer}) must be at least EVENTSTORE_BATCH_SIZE (${settings.eventStoreBatchSize})`,
      );
    }
    this.store = new PostgresEventStore(dataSource);
    this.buffer = new EventBuffer<NewCalculatorEvent>({
      writer: { write: (batch) => this.traced(batch) },
      flushMs: settings.eventStoreFlushMs,
      batchSize: settings.eventStoreBatchSize,
      maxBuffer: settings.eventStoreMaxBuffer,
      retry: { initialMs: 100, maxMs: 2000 },
      onWriteFailed: (f) =>
        log.warn(
          {
            attempt: f.attempt,
            buffered: f.buffered,
            retryInMs: f.retryInMs,
            error: (f.error as Error)?.message,
          },
          'event store write failed; events stay buffered',
        ),
      onHealthChange: (healthy) => {
        if (healthy) log.info({ buffered: this.buffer.stats().buffered }, 'event store writable again');
        for (const listener of this.healthListeners) listener(healthy);
      },
    });
    readiness.register('calculator-event-store', async () => {
      const stats = this.buffer.stats();
      if (!stats.healthy) {
        throw new Error(
          `event store unwritable (${stats.failedAttempts} failed writes, ${stats.buffered} buffered)`,
        );
      }
      return { buffered: stats.buffered };
    });
  }

  /** Accepts events in order; waits while the buffer is full (see EventBuffer.append). */
  append(...events: NewCalculatorEvent[]): Promise<void> {
    // The request each event came from, for the flush's span links (only when the request is traced).
    const span = trace.getActiveSpan();
    if (span?.isRecording()) {
      const origin = span.spanContext();
      for (const e of events) this.origins.set(e, origin);
    }
    return this.buffer.append(...events);
  }

  /**
   * One write of the buffer as a span of its own, linked to the requests whose events it stores (a batch serves
   * many traces, so it is the child of none): its SQL statement is its child.
   */
  private traced(batch: readonly NewCalculatorEvent[]): Promise<void> {
    const links: Link[] = [];
    const seen = new Set<string>();
    for (const e of batch) {
      const origin = this.origins.get(e);
      if (!origin || seen.has(origin.spanId) || links.length >= MAX_FLUSH_LINKS) continue;
      seen.add(origin.spanId);
      links.push({ context: origin });
    }
    // The flush timer was armed inside some request's context: the write belongs to none of them.
    if (links.length === 0) return context.with(ROOT_CONTEXT, () => this.store.write(batch));
    const span = platformTracer().startSpan(
      'event store flush',
      { kind: SpanKind.INTERNAL, links, attributes: { 'db.operation.batch.size': batch.length } },
      ROOT_CONTEXT,
    );
    return context.with(trace.setSpan(ROOT_CONTEXT, span), () =>
      this.store.write(batch).then(
        () => span.end(),
        (err: unknown) => {
          failSpan(span, 'write_failed', true, (err as Error)?.message);
          span.end();
          throw err;
        },
      ),
    );
  }

  get healthy(): boolean {
    return this.buffer.healthy;
  }

  onHealthChange(listener: (healthy: boolean) => void): void {
    this.healthListeners.push(listener);
  }

  /** Folds the whole log into the runningTotal; the module calls it once at boot. */
  async rebuild(): Promise<RunningTotal> {
    const started = Date.now();
    const total = await this.fold();
    log.info({ ...total, ms: Date.now() - started }, 'runningTotal rebuilt from the event log');
    return total;
  }

  /**
   * The runningTotal including every request answered before this call: the buffer is flushed and the log read
   * up to its end. If the store does not answer in time, the last known totals are returned marked stale.
   */
  async stats(): Promise<StatsView> {
    let stale = false;
    try {
      await within(
        STATS_WAIT_MS,
        this.buffer.flush().then(() => this.foldFromNow()),
      );
    } catch {
      stale = true;
    }
    const { summation, factorial, failed, lastSeq } = this.total;
    return { runningTotal: { summation, factorial, failed }, lastSeq, stale, buffer: this.buffer.stats() };
  }

  read(after: string, limit: number): Promise<StoredCalculatorEvent[]> {
    return this.store.readAfter(after, limit);
  }

  /** Every door is closed by now: write everything still buffered before the pool closes. */
  async onApplicationShutdown(): Promise<void> {
    const before = this.buffer.stats();
    const deadlineMs = Math.max(500, Math.floor(this.boot.platform.shutdownGraceMs / 2));
    try {
      await this.buffer.drain({ deadlineMs });
      log.info(
        { flushed: before.buffered + before.waitingAppends, written: this.buffer.stats().written },
        'drained event buffer',
      );
    } catch (err) {
      if (!(err instanceof DrainTimeoutError)) throw err;
      log.error({ unwritten: err.unwritten, deadlineMs }, 'event buffer not drained: these events are lost');
    }
  }

  /** A fold that starts now: one already running may have begun before the events the caller cares about. */
  private async foldFromNow(): Promise<RunningTotal> {
    await this.folding?.catch(() => undefined);
    return this.fold();
  }

  /** Reads the log after the last folded event, one fold at a time. */
  private fold(): Promise<RunningTotal> {
    this.folding ??= (async () => {
      try {
        for (;;) {
          const page = await this.store.readAfter(this.total.lastSeq, FOLD_PAGE);
          this.total = foldRunningTotal(page, this.total);
          if (page.length < FOLD_PAGE) return this.total;
        }
      } finally {
        this.folding = undefined;
      }
    })();
    return this.folding;
  }
}
