// The master's children: starts each through the configured spawner (answering at once, the spawn goes on in the
// background), enforces MASTER_MAX_CHILDREN and MASTER_CHILD_TIMEOUT_MS, records how each one ended, and stops
// every child it started when the master shuts down, while the TCP listener still takes their last reports.
import { SpanKind, context, type Context } from '@opentelemetry/api';
import { failSpan, platformTracer, traceparentOf } from '../../platform/tracing/tracing.js';
import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { setTimeout as delay } from 'node:timers/promises';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Clock } from '../../platform/clock.js';
import type { HostPort } from '../../platform/config/parsers.js';
import {
  AppError,
  notFound,
  serviceUnavailable,
  type FieldProblem,
} from '../../platform/errors/app-error.js';
import { createLogger } from '../../platform/logging/logger.js';
import { Lifecycle } from '../../platform/shutdown/lifecycle.js';
import { validationError } from '../../platform/validation/validate.js';
import { childSeedOf } from './child/random.util.js';
import type { DoneMessage } from './contract.js';
import type { CreateChildrenDto } from './dto/create-children.dto.js';
import type { ChildProgress } from './progress/progress.store.js';
import { type ChildExit, type ChildHandle, type ChildSpawner, childEnvOf } from './spawners/child-spawner.js';

export const CHILD_SPAWNER = Symbol('master:child-spawner');
export const CHILDREN_OPTIONS = Symbol('master:children-options');

export interface ChildrenOptions {
  /** The master range is [0, range). */
  range: number;
  maxChildren: number;
  childTimeoutMs: number;
  /** Where children report (this master's TCP listener as a child sees it). */
  advertiseAddr: HostPort;
  /** Gives each child a distinct, reproducible CHILD_SEED. */
  childSeed?: string;
  childBatchSize?: number;
  /** Ended children kept for GET /master/children; older ones are forgotten. Default 1000. */
  keepEnded?: number;
  /** How long shutdown waits for its children to end before giving up on them (a share of SHUTDOWN_GRACE_MS). */
  stopWaitMs: number;
  /** Makes each child's CHILD_SECRET; 32 random bytes unless a spec fixes it. */
  newSecret?: () => string;
}

/**
 * A report or done message from a child this master did not start (or no longer remembers: a previous life's,
 * or one pruned long after it ended), or with the wrong secret. One answer for both, so it tells a caller nothing.
 */
export class ChildNotRecognisedError extends AppError {
  constructor(childId: string) {
    super(403, 'child_not_recognised', `${childId} is not a child of this master, or its secret is wrong`);
    this.name = 'ChildNotRecognisedError';
  }
}

const digest = (secret: string): Buffer => createHash('sha256').update(secret).digest();
/** Compared against when the id is unknown, so an unknown id costs the same as a wrong secret. */
const NO_CHILD = digest(randomBytes(32).toString('base64url'));

/** What the registry needs from the progress store: the numbers a child has reported. */
export interface ChildNumbers {
  childProgress(childId: string): ChildProgress;
}
export const CHILD_NUMBERS = Symbol('master:child-numbers');

/** starting: accepted, being started or booting; running: it has reported; then how it ended. */
export const CHILD_STATUSES = ['starting', 'running', 'succeeded', 'failed'] as const;
export type ChildStatus = (typeof CHILD_STATUSES)[number];
export type StopReason = 'request' | 'timeout' | 'shutdown';

export const DEFAULT_CHILD_COUNT = 1000;

/** The answer to a create: the exact shape. */
export interface ChildCreated {
  id: string;
  status: 'starting';
  count: number;
  min: number;
  max: number;
}

export interface ChildSummary {
  id: string;
  status: ChildStatus;
  spawner: string;
  /** The platform's name for the child: a pid, a container id, a Job name (once started). */
  ref: string | null;
  /** The OS process id, for the process spawner. */
  pid?: number;
  count: number;
  min: number;
  max: number;
  seed: string | null;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  exitCode: number | null;
  signal: string | null;
  /** Why it failed, when it did. */
  error: string | null;
  /** Who asked it to stop early, if anyone. */
  stoppedBy: StopReason | null;
}

export interface ChildDetail extends ChildSummary {
  /** What its accepted reports added up to. */
  reported: ChildProgress;
  /** Its `done` message, once received. */
  done: DoneMessage | null;
  stderrTail: string;
}

interface ChildRecord {
  id: string;
  count: number;
  min: number;
  max: number;
  seed?: string;
  /** SHA-256 of its CHILD_SECRET; the secret itself is only in the child's environment. */
  secretDigest: Buffer;
  status: ChildStatus;
  createdAt: Date;
  startedAt?: Date;
  endedAt?: Date;
  handle?: ChildHandle;
  exit?: ChildExit;
  error?: string;
  stoppedBy?: StopReason;
  done?: DoneMessage;
  stderrTail: string;
  /** It has reported (so it is up and handles SIGTERM by reporting what it has). */
  heard?: boolean;
  timer?: NodeJS.Timeout;
  /** Resolves once the child has ended (or could not be started). */
  ended: Promise<void>;
  /** The context of the request that created it: its spawn span (and so the child) join that trace. */
  context: Context;
}

function isActive(r: ChildRecord): boolean {
  return r.status === 'starting' || r.status === 'running';
}

@Injectable()
export class ChildrenService implements BeforeApplicationShutdown {
  private readonly log = createLogger('master-children');
  private readonly children = new Map<string, ChildRecord>();
  private ordinal = 0;
  private closing = false;

  constructor(
    @Inject(CHILD_SPAWNER) private readonly spawner: ChildSpawner,
    @Inject(CHILDREN_OPTIONS) private readonly options: ChildrenOptions,
    @Inject(CHILD_NUMBERS) private readonly numbers: ChildNumbers,
    private readonly clock: Clock,
    private readonly lifecycle: Lifecycle,
  ) {}

  /** Accepts a child and starts it in the background; the answer does not wait for the spawn. */
  create(body: CreateChildrenDto): ChildCreated {
    const count = body.count ?? DEFAULT_CHILD_COUNT;
    const min = body.min ?? 0;
    const max = body.max ?? this.options.range;
    const problems: FieldProblem[] = [];
    if (max > this.options.range)
      problems.push({
        field: 'max',
        message: `max must be at most the master range (${this.options.range})`,
      });
    if (min >= max) problems.push({ field: 'min', message: `min (${min}) must be below max (${max})` });
    if (problems.length > 0) throw validationError(problems);
    if (this.closing || this.lifecycle.isShuttingDown)
      throw serviceUnavailable('the master is shutting down', 'shutting_down');
    const active = [...this.children.values()].filter(isActive).length;
    if (active >= this.options.maxChildren) {
      throw new AppError(
        429,
        'too_many_children',
        `${active} children are running; at most ${this.options.maxChildren} may run at once (MASTER_MAX_CHILDREN)`,
        undefined,
        { 'retry-after': '1' },
      );
    }

    this.ordinal += 1;
    const now = this.clock.now();
    // Unique across restarts of the master (the progress store remembers reports by child id and seq).
    const id = `c${this.ordinal}-${now.getTime().toString(36)}`;
    const seed =
      this.options.childSeed === undefined ? undefined : childSeedOf(this.options.childSeed, this.ordinal);
    let markEnded!: () => void;
    const secret = (this.options.newSecret ?? (() => randomBytes(32).toString('base64url')))();
    const record: ChildRecord = {
      id,
      count,
      min,
      max,
      seed,
      secretDigest: digest(secret),
      status: 'starting',
      createdAt: now,
      stderrTail: '',
      ended: new Promise<void>((resolve) => (markEnded = resolve)),
      context: context.active(),
    };
    this.children.set(id, record);
    this.prune();
    void this.launch(record, secret).finally(markEnded);
    return { id, status: 'starting', count, min, max };
  }

  list(): ChildSummary[] {
    return [...this.children.values()].map((r) => this.summary(r));
  }

  get(id: string): ChildDetail {
    const r = this.children.get(id);
    if (!r) throw notFound(`no child ${id}`);
    return {
      ...this.summary(r),
      reported: this.numbers.childProgress(id),
      done: r.done ?? null,
      stderrTail: r.handle ? r.handle.stderrTail() : r.stderrTail,
    };
  }

  /** Asks a child to stop (it reports what it has). Resolves with whether a stop was started. */
  stop(id: string): { child: ChildDetail; stopping: boolean } {
    const r = this.children.get(id);
    if (!r) throw notFound(`no child ${id}`);
    if (!isActive(r)) return { child: this.get(id), stopping: false };
    this.requestStop(r, 'request');
    return { child: this.get(id), stopping: true };
  }

  counts(): Record<ChildStatus, number> {
    const counts = { starting: 0, running: 0, succeeded: 0, failed: 0 };
    for (const r of this.children.values()) counts[r.status] += 1;
    return counts;
  }

  /** Throws ChildNotRecognisedError unless `childId` is a child this master started and `secret` is its own. */
  authenticate(childId: string, secret: string): void {
    const r = this.children.get(childId);
    const matches = timingSafeEqual(r?.secretDigest ?? NO_CHILD, digest(secret));
    if (!r || !matches) {
      this.log.warn({ child: childId, known: Boolean(r) }, 'refused a report: not a child of this master');
      throw new ChildNotRecognisedError(childId);
    }
  }

  /** A report arrived from a child: the first one turns it from starting (booting) to running. */
  noteReport(childId: string): void {
    const r = this.children.get(childId);
    if (!r || r.heard) return;
    r.heard = true;
    if (r.status === 'starting' && r.handle) r.status = 'running';
  }

  /** A child's last word (authenticate() has checked it is one of this master's children). */
  noteDone(message: DoneMessage): void {
    this.noteReport(message.childId);
    const r = this.children.get(message.childId);
    if (r) r.done = { ...message };
    this.log.info({ ...message, known: Boolean(r) }, 'child done');
  }

  /**
   * Stops every child before the TCP listener closes, so their final reports still land. The wait is bounded by
   * stopWaitMs: a child (or an engine) that does not answer is named and left behind rather than holding the
   * master past its own shutdown deadline.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    const active = [...this.children.values()].filter(isActive);
    if (active.length === 0) return;
    const waiting = new Set(active);
    const stopped = Promise.all(
      active.map(async (r) => {
        this.requestStop(r, 'shutdown');
        await r.ended;
        waiting.delete(r);
        this.log.info(
          { child: r.id, ref: r.handle?.ref ?? null, exitCode: r.exit?.exitCode ?? null, status: r.status },
          `stopped child ${r.id}`,
        );
      }),
    );
    const deadline = new AbortController();
    const outcome = await Promise.race([
      stopped.then(() => 'stopped' as const),
      delay(this.options.stopWaitMs, 'gave up' as const, { signal: deadline.signal, ref: false }),
    ]);
    deadline.abort();
    if (outcome === 'stopped') {
      this.log.info({ children: active.length }, 'every child stopped');
      return;
    }
    const left = [...waiting].map((r) => ({ child: r.id, ref: r.handle?.ref ?? null }));
    this.log.warn(
      { children: left, waitedMs: this.options.stopWaitMs },
      `gave up waiting for ${left.length} children: ${left.map((c) => c.child).join(', ')}`,
    );
  }

  private async launch(r: ChildRecord, secret: string): Promise<void> {
    r.timer = setTimeout(() => this.timeOut(r), this.options.childTimeoutMs);
    r.timer.unref?.();
    let handle: ChildHandle;
    const span = platformTracer().startSpan(
      'spawn child',
      {
        kind: SpanKind.INTERNAL,
        attributes: { 'polyrole.child.id': r.id, 'polyrole.spawner': this.spawner.kind },
      },
      r.context,
    );
    try {
      handle = await this.spawner.spawn({
        id: r.id,
        env: childEnvOf({
          id: r.id,
          secret,
          min: r.min,
          max: r.max,
          count: r.count,
          masterAddr: this.options.advertiseAddr,
          seed: r.seed,
          batchSize: this.options.childBatchSize,
          traceparent: traceparentOf(span),
        }),
      });
    } catch (err) {
      failSpan(span, 'spawn_failed', true, (err as Error).message);
      span.end();
      this.finish(r, { exitCode: null, error: (err as Error).message });
      return;
    }
    span.end();
    r.handle = handle;
    r.startedAt = this.clock.now();
    if (r.heard) r.status = 'running';
    this.log.info({ child: r.id, spawner: this.spawner.kind, ref: handle.ref }, 'child started');
    // Stopped (by request, timeout or shutdown) while it was starting.
    if (r.stoppedBy) void handle.stop().catch((err) => this.stopFailed(r, err));
    this.finish(r, await handle.wait());
  }

  private requestStop(r: ChildRecord, reason: StopReason): void {
    r.stoppedBy ??= reason;
    // Without a handle the child is still starting: launch() stops it as soon as it is up.
    if (r.handle) void r.handle.stop().catch((err) => this.stopFailed(r, err));
  }

  private stopFailed(r: ChildRecord, err: unknown): void {
    this.log.error({ child: r.id, err: (err as Error).message }, 'could not stop child');
  }

  private timeOut(r: ChildRecord): void {
    if (!isActive(r)) return;
    this.log.warn({ child: r.id, timeoutMs: this.options.childTimeoutMs }, 'child timed out; stopping it');
    r.stoppedBy = 'timeout';
    this.requestStop(r, 'timeout');
  }

  private finish(r: ChildRecord, exit: ChildExit): void {
    clearTimeout(r.timer);
    r.exit = exit;
    r.endedAt = this.clock.now();
    if (r.handle) r.stderrTail = r.handle.stderrTail();
    const timedOut = r.stoppedBy === 'timeout';
    r.status = exit.exitCode === 0 && !timedOut ? 'succeeded' : 'failed';
    if (timedOut) r.error = `timed out after ${this.options.childTimeoutMs} ms (MASTER_CHILD_TIMEOUT_MS)`;
    else if (exit.error) r.error = exit.error;
    else if (exit.exitCode !== 0)
      r.error = exit.signal ? `killed by ${exit.signal}` : `exited with code ${exit.exitCode}`;
    const line = { child: r.id, ref: r.handle?.ref ?? null, exitCode: exit.exitCode, status: r.status };
    if (r.status === 'succeeded') this.log.info(line, 'child ended');
    else this.log.warn({ ...line, error: r.error }, 'child failed');
  }

  private summary(r: ChildRecord): ChildSummary {
    const ref = r.handle?.ref ?? null;
    return {
      id: r.id,
      status: r.status,
      spawner: this.spawner.kind,
      ref,
      ...(this.spawner.kind === 'process' && ref !== null ? { pid: Number(ref) } : {}),
      count: r.count,
      min: r.min,
      max: r.max,
      seed: r.seed ?? null,
      createdAt: r.createdAt.toISOString(),
      startedAt: r.startedAt?.toISOString() ?? null,
      endedAt: r.endedAt?.toISOString() ?? null,
      exitCode: r.exit?.exitCode ?? null,
      signal: r.exit?.signal ?? null,
      error: r.error ?? null,
      stoppedBy: r.stoppedBy ?? null,
    };
  }

  /** Forgets the oldest ended children beyond the kept number, so a long-lived master stays bounded. */
  private prune(): void {
    const keep = this.options.keepEnded ?? 1000;
    const ended = [...this.children.values()].filter((r) => !isActive(r));
    for (const r of ended.slice(0, Math.max(0, ended.length - keep))) this.children.delete(r.id);
  }
}
