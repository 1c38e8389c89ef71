// Batches events off the request path: one write in flight at a time (so the store's order is append order),
// flushed every `flushMs` or every `batchSize` events. The buffer is bounded and never drops: when it is full,
// append() waits; a failed write keeps its events and is retried with backoff.
//
// What a crash can lose: events accepted but not yet written, i.e. at most the last `flushMs` of traffic plus
// whatever piled up while the store was failing (bounded by `maxBuffer`). With `flushMs = 0` the buffer writes
// through: append() resolves only once its events are stored, so an answered request never loses its events.
// Not the platform's WriteBatcher: that one runs statements side by side and fails their callers, where the store
// needs append order (one write in flight), timed flushes off the request path and failed writes kept and retried.
import { backoffDelay } from '../../../platform/backoff.util.js';

export interface EventWriter<E> {
  /** Stores the events in order, all or nothing. */
  write(events: readonly E[]): Promise<void>;
}

export interface Scheduler {
  /** Runs `fn` after `ms` milliseconds; the returned function cancels it. */
  schedule(ms: number, fn: () => void): () => void;
}

export const realScheduler: Scheduler = {
  schedule(ms, fn) {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

export interface RetryPolicy {
  /** Delay before the first retry; doubles on each further failure. */
  initialMs: number;
  maxMs: number;
}

export interface WriteFailure {
  error: unknown;
  /** Consecutive failed attempts, 1 for the first. */
  attempt: number;
  buffered: number;
  retryInMs: number;
}

export interface EventBufferOptions<E> {
  writer: EventWriter<E>;
  /** Longest an accepted event waits before a write starts; 0 writes through. */
  flushMs: number;
  /** Most events per write; a full batch is written at once. */
  batchSize: number;
  /** Most events held unwritten; beyond it append() waits. */
  maxBuffer: number;
  retry?: RetryPolicy;
  /** Jitter of the retry backoff, in [0, 1); Math.random unless a spec fixes it. */
  jitter?: () => number;
  scheduler?: Scheduler;
  onWriteFailed?: (failure: WriteFailure) => void;
  /** Called when writes start failing (false) and when they succeed again (true). */
  onHealthChange?: (healthy: boolean) => void;
}

export interface EventBufferStats {
  buffered: number;
  waitingAppends: number;
  written: number;
  healthy: boolean;
  failedAttempts: number;
}

export class DrainTimeoutError extends Error {
  constructor(readonly unwritten: number) {
    super(`event buffer not drained in time: ${unwritten} event(s) still unwritten`);
    this.name = 'DrainTimeoutError';
  }
}

export const DEFAULT_RETRY: RetryPolicy = { initialMs: 100, maxMs: 5000 };

interface BlockedAppend<E> {
  events: readonly E[];
  resolve: () => void;
}

interface Waiter {
  /** Resolve once this many events have been written in total. */
  upTo: number;
  resolve: () => void;
}

const ACCEPTED: Promise<void> = Promise.resolve();

export class EventBuffer<E> {
  private readonly buffer: E[] = [];
  private readonly blocked: BlockedAppend<E>[] = [];
  private readonly durableWaiters: Waiter[] = [];
  private idleWaiters: (() => void)[] = [];
  private readonly scheduler: Scheduler;
  private readonly retry: RetryPolicy;
  private accepted = 0;
  private written = 0;
  private writing = false;
  private flushDue = false;
  private draining = false;
  private failedAttempts = 0;
  private cancelFlushTimer: (() => void) | undefined;
  private cancelRetryTimer: (() => void) | undefined;

  constructor(private readonly options: EventBufferOptions<E>) {
    if (!(options.batchSize >= 1)) throw new Error('batchSize must be at least 1');
    if (!(options.maxBuffer >= options.batchSize)) throw new Error('maxBuffer must be at least batchSize');
    if (!(options.flushMs >= 0)) throw new Error('flushMs must be 0 or more');
    this.scheduler = options.scheduler ?? realScheduler;
    this.retry = options.retry ?? DEFAULT_RETRY;
  }

  /**
   * Accepts events in order. Resolves once they are buffered, or, when writing through (`flushMs = 0`), once they
   * are stored. While the buffer is full (or earlier appends are still waiting) it waits; it never drops or rejects.
   */
  append(...events: E[]): Promise<void> {
    if (events.length === 0) return ACCEPTED;
    if (this.blocked.length === 0 && this.fits(events.length)) {
      const upTo = this.accept(events);
      this.kick();
      return this.writesThrough ? this.whenWritten(upTo) : ACCEPTED;
    }
    return new Promise((resolve) => this.blocked.push({ events, resolve }));
  }

  /**
   * Writes everything buffered, including appends still waiting for room, without waiting for the flush timer;
   * from now on every append is written at once. Rejects with DrainTimeoutError if `deadlineMs` passes first
   * (the events stay buffered and retries go on).
   */
  drain(opts: { deadlineMs?: number } = {}): Promise<void> {
    this.draining = true;
    if (this.cancelRetryTimer) {
      // Shutting down: one more attempt now rather than at the end of the backoff.
      this.cancelRetryTimer();
      this.cancelRetryTimer = undefined;
    }
    this.kick();
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let cancelDeadline: (() => void) | undefined;
      const done = () => {
        cancelDeadline?.();
        resolve();
      };
      this.idleWaiters.push(done);
      if (opts.deadlineMs !== undefined) {
        cancelDeadline = this.scheduler.schedule(opts.deadlineMs, () => {
          this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
          reject(new DrainTimeoutError(this.unwritten()));
        });
      }
    });
  }

  /**
   * Writes what is accepted so far without waiting for the flush timer (a retry still waits out its backoff);
   * resolves once all of it is stored. Later appends are not waited for.
   */
  flush(): Promise<void> {
    if (this.written >= this.accepted) return Promise.resolve();
    const stored = this.whenWritten(this.accepted);
    this.flushDue = true;
    this.kick();
    return stored;
  }

  /** True unless the last write failed. */
  get healthy(): boolean {
    return this.failedAttempts === 0;
  }

  stats(): EventBufferStats {
    return {
      buffered: this.buffer.length,
      waitingAppends: this.blocked.length,
      written: this.written,
      healthy: this.healthy,
      failedAttempts: this.failedAttempts,
    };
  }

  private get writesThrough(): boolean {
    return this.options.flushMs === 0;
  }

  private fits(n: number): boolean {
    // An append larger than the whole bound is still taken into an empty buffer, or it could never be.
    return this.buffer.length === 0 || this.buffer.length + n <= this.options.maxBuffer;
  }

  private accept(events: readonly E[]): number {
    for (const e of events) this.buffer.push(e);
    this.accepted += events.length;
    return this.accepted;
  }

  private whenWritten(upTo: number): Promise<void> {
    return new Promise((resolve) => this.durableWaiters.push({ upTo, resolve }));
  }

  private unwritten(): number {
    return this.buffer.length + this.blocked.reduce((n, b) => n + b.events.length, 0);
  }

  private isIdle(): boolean {
    return this.buffer.length === 0 && this.blocked.length === 0 && !this.writing;
  }

  /** Decides what happens next: write now, arm the flush timer, or nothing (a write or a retry is pending). */
  private kick(): void {
    if (this.buffer.length === 0) {
      this.cancelFlush();
      this.flushDue = false;
      if (this.isIdle()) this.settleIdle();
      return;
    }
    if (this.cancelRetryTimer) return;
    const due =
      this.writesThrough || this.draining || this.flushDue || this.buffer.length >= this.options.batchSize;
    if (this.writing || !due) {
      if (!due) this.armFlush();
      return;
    }
    this.cancelFlush();
    this.flushDue = false;
    void this.writeBatch();
  }

  private armFlush(): void {
    if (this.cancelFlushTimer) return;
    this.cancelFlushTimer = this.scheduler.schedule(this.options.flushMs, () => {
      this.cancelFlushTimer = undefined;
      this.flushDue = true;
      this.kick();
    });
  }

  private cancelFlush(): void {
    this.cancelFlushTimer?.();
    this.cancelFlushTimer = undefined;
  }

  private async writeBatch(): Promise<void> {
    this.writing = true;
    const batch = this.buffer.slice(0, this.options.batchSize);
    let error: unknown;
    let failed = false;
    try {
      await this.options.writer.write(batch);
    } catch (err) {
      failed = true;
      error = err;
    }
    this.writing = false;
    if (failed) this.onFailure(error);
    else this.onSuccess(batch.length);
    this.kick();
  }

  private onSuccess(count: number): void {
    this.buffer.splice(0, count);
    this.written += count;
    if (this.failedAttempts > 0) {
      this.failedAttempts = 0;
      this.options.onHealthChange?.(true);
    }
    while (this.durableWaiters.length > 0 && this.durableWaiters[0].upTo <= this.written) {
      this.durableWaiters.shift()!.resolve();
    }
    this.admitBlocked();
  }

  private onFailure(error: unknown): void {
    this.failedAttempts += 1;
    if (this.failedAttempts === 1) this.options.onHealthChange?.(false);
    const retryInMs = backoffDelay(this.failedAttempts, this.retry, this.options.jitter);
    this.options.onWriteFailed?.({
      error,
      attempt: this.failedAttempts,
      buffered: this.buffer.length,
      retryInMs,
    });
    this.cancelRetryTimer = this.scheduler.schedule(retryInMs, () => {
      this.cancelRetryTimer = undefined;
      this.flushDue = true;
      this.kick();
    });
  }

  private admitBlocked(): void {
    while (this.blocked.length > 0 && this.fits(this.blocked[0].events.length)) {
      const { events, resolve } = this.blocked.shift()!;
      const upTo = this.accept(events);
      if (this.writesThrough) void this.whenWritten(upTo).then(resolve);
      else resolve();
    }
  }

  private settleIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
