// The child's work: draw `count` integers uniformly in [min, max), report them in numbered batches (several in
// flight, each retried until acknowledged), then say done. stop() ends drawing early but still delivers what
// was drawn. Randomness, transport and sleeping are injected.
import { backoffDelay } from '../../../platform/backoff.util.js';
import type { DoneMessage, ReportBatch } from '../contract.js';
import type { ChildSettings } from '../master.settings.js';
import { type Random32, uniformInt } from './random.util.js';

export interface ChildJobSpec {
  childId: string;
  min: number;
  /** Exclusive. */
  max: number;
  count: number;
  batchSize: number;
  /** Batches reported before waiting for the oldest acknowledgement. Default 4. */
  maxInFlight?: number;
}

export interface RetryPolicy {
  /** Tries per message, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface ChildJobDeps {
  random: Random32;
  report(batch: ReportBatch): Promise<unknown>;
  done(message: DoneMessage): Promise<unknown>;
  sleep?(ms: number): Promise<void>;
  /** Jitter of the retry backoff, in [0, 1); Math.random unless a spec fixes it. */
  jitter?: () => number;
  retry?: Partial<RetryPolicy>;
  /** Called before each retry (logging). */
  onRetry?(what: string, attempt: number, error: unknown): void;
}

export type ChildJobResult = DoneMessage;

/** The job a child process runs, from its validated settings. */
export function jobSpecOf(s: ChildSettings): ChildJobSpec {
  return {
    childId: s.id,
    min: s.min,
    max: s.max,
    count: s.count,
    batchSize: s.batchSize,
    maxInFlight: s.maxInFlight,
  };
}

const DEFAULT_RETRY: RetryPolicy = { attempts: 8, baseDelayMs: 100, maxDelayMs: 5_000 };

/** A client error (a 4xx other than timeout / too many requests) will not succeed by being sent again. */
function isPermanent(err: unknown): boolean {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 400 && status < 500 && status !== 408 && status !== 429;
}

export class ChildJob {
  private readonly retry: RetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private stopping = false;
  private running: Promise<ChildJobResult> | null = null;

  constructor(
    private readonly spec: ChildJobSpec,
    private readonly deps: ChildJobDeps,
  ) {
    const { min, max, count, batchSize } = spec;
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min >= max) {
      throw new RangeError(`invalid range [${min}, ${max})`);
    }
    if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`invalid count ${count}`);
    if (!Number.isSafeInteger(batchSize) || batchSize < 1)
      throw new RangeError(`invalid batch size ${batchSize}`);
    this.retry = { ...DEFAULT_RETRY, ...deps.retry };
    this.sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Runs the job once; later calls return the same outcome. Rejects if a batch or done cannot be delivered. */
  run(): Promise<ChildJobResult> {
    this.running ??= this.execute();
    return this.running;
  }

  /** Draws no more numbers; resolves once the batches already drawn are delivered and done is sent. */
  stop(): Promise<ChildJobResult | undefined> {
    this.stopping = true;
    return this.running ?? Promise.resolve(undefined);
  }

  private async execute(): Promise<ChildJobResult> {
    const { childId, min, max, count, batchSize } = this.spec;
    const maxInFlight = this.spec.maxInFlight ?? 4;
    const inFlight = new Set<Promise<void>>();
    let failure: { error: unknown } | undefined;
    let seq = 0;
    let drawn = 0;
    while (drawn < count && !this.stopping && !failure) {
      const numbers = new Array<number>(Math.min(batchSize, count - drawn));
      for (let i = 0; i < numbers.length; i++) numbers[i] = uniformInt(this.deps.random, min, max);
      const batch: ReportBatch = { childId, seq, numbers };
      seq += 1;
      drawn += numbers.length;
      const sending: Promise<void> = this.deliver(`batch ${batch.seq}`, () => this.deps.report(batch)).then(
        () => void inFlight.delete(sending),
        (error) => {
          inFlight.delete(sending);
          failure ??= { error };
        },
      );
      inFlight.add(sending);
      if (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    if (failure) throw failure.error;
    const done: DoneMessage = { childId, batches: seq, numbers: drawn, stopped: drawn < count };
    await this.deliver('done', () => this.deps.done(done));
    return done;
  }

  private async deliver(what: string, send: () => Promise<unknown>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await send();
        return;
      } catch (err) {
        if (attempt >= this.retry.attempts || isPermanent(err)) throw err;
        this.deps.onRetry?.(what, attempt, err);
        const { baseDelayMs: initialMs, maxDelayMs: maxMs } = this.retry;
        await this.sleep(backoffDelay(attempt, { initialMs, maxMs }, this.deps.jitter));
      }
    }
  }
}
