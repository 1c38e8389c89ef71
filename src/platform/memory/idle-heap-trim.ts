// Gives the heap a role grew under load back to the system once the role is idle: after HEAP_TRIM_IDLE_MS of an
// event loop busy under 2% of the time, one full collection that also shrinks V8's young generation (which grows to
// 64 MB a semi-space under load and is otherwise kept for ever). Checked each period; a trim only when the heap holds
// at least MIN_SLACK_BYTES more than it uses beyond what the last trim left, so an idle role is trimmed once, not
// every period (part of a heap's slack, fragmented old space, no collection gives back).
import { getHeapStatistics } from 'node:v8';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { assumeGcExtension, collectAllAvailableGarbage, lastResortIgnored } from '../internals/v8-gc.js';
import type { AppLogger } from '../logging/logger.js';

/** Busy share of the event loop under which a period counts as idle. */
export const IDLE_UTILIZATION = 0.02;
/** Heap committed beyond what is used that makes a trim worth its pause. */
export const MIN_SLACK_BYTES = 32 * 1_048_576;

export interface IdleHeapTrimOptions {
  /** Length of the idle period before a trim; 0: never trim. */
  idleMs: number;
  log: AppLogger;
  minSlackBytes?: number;
  /** The collection (V8's last-resort GC); replaceable to test what happens when V8 stops honouring it. */
  collect?: typeof collectAllAvailableGarbage;
}

export interface IdleHeapTrim {
  /** Trims done so far. */
  readonly trims: number;
  stop(): void;
}

const MB = 1_048_576;
const mb = (bytes: number) => Math.round(bytes / MB);

/** Starts watching (nothing when idleMs is 0); throws at boot when V8 no longer offers what a trim needs. */
export function startIdleHeapTrim(opts: IdleHeapTrimOptions): IdleHeapTrim {
  let trims = 0;
  if (opts.idleMs === 0) return { trims, stop: () => undefined };
  assumeGcExtension();
  const minSlack = opts.minSlackBytes ?? MIN_SLACK_BYTES;
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  /** The slack the last trim left. */
  let floor = 0;
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    if (busy >= IDLE_UTILIZATION) return;
    const heap = getHeapStatistics();
    if (heap.total_heap_size - heap.used_heap_size - floor < minSlack) return;
    const rssBefore = process.memoryUsage.rss();
    const started = performance.now();
    const { youngBefore, youngAfter } = (opts.collect ?? collectAllAvailableGarbage)();
    const ms = Math.round(performance.now() - started);
    // The collection's own pause would otherwise count as this period's work in the next check.
    last = performance.eventLoopUtilization();
    if (youngAfter >= youngBefore && youngBefore > 8 * MB) {
      opts.log.error({ youngMb: mb(youngAfter) }, `${lastResortIgnored().message}: idle heap trims stopped`);
      clearInterval(timer);
      return;
    }
    trims++;
    const after = getHeapStatistics();
    floor = after.total_heap_size - after.used_heap_size;
    opts.log.info(
      {
        rssMb: [mb(rssBefore), mb(process.memoryUsage.rss())],
        heapMb: [mb(heap.total_heap_size), mb(after.total_heap_size)],
        ms,
      },
      'idle: heap trimmed',
    );
  }, opts.idleMs);
  timer.unref();
  return {
    get trims() {
      return trims;
    },
    stop: () => clearInterval(timer),
  };
}
