// The `runningTotal` aggregate: how many summations and factorials were answered and how many requests failed,
// as a pure fold over the event log (rebuilt from it at boot, then kept current with each new event).
import type { CalculatorEventType, NewCalculatorEvent } from './calculator-event.types.js';

export interface RunningTotal {
  summation: number;
  factorial: number;
  failed: number;
  /** The last stored event folded in (a bigserial as a decimal string); '0' before any. */
  lastSeq: string;
}

export const EMPTY_RUNNING_TOTAL: Readonly<RunningTotal> = Object.freeze({
  summation: 0,
  factorial: 0,
  failed: 0,
  lastSeq: '0',
});

/** An event as the fold sees it: a new one (no seq yet) or one read back from the log. */
export type FoldableEvent = Pick<NewCalculatorEvent, 'type' | 'payload'> & { seq?: string };

const COUNTED: Partial<Record<CalculatorEventType, (t: RunningTotal, e: FoldableEvent) => RunningTotal>> = {
  CalculationCompleted: (t, e) => {
    const method = (e.payload as { method?: unknown }).method;
    return method === 'summation' || method === 'factorial' ? { ...t, [method]: t[method] + 1 } : t;
  },
  CalculationFailed: (t) => ({ ...t, failed: t.failed + 1 }),
};

/** The total after one more event; events it does not count (requests, watches, unknown types) leave it as is. */
export function applyToRunningTotal(total: RunningTotal, event: FoldableEvent): RunningTotal {
  const counted = COUNTED[event.type]?.(total, event) ?? total;
  return event.seq === undefined || counted.lastSeq === event.seq
    ? counted
    : { ...counted, lastSeq: event.seq };
}

export function foldRunningTotal(
  events: Iterable<FoldableEvent>,
  from: RunningTotal = EMPTY_RUNNING_TOTAL,
): RunningTotal {
  let total = from;
  for (const e of events) total = applyToRunningTotal(total, e);
  return total;
}
