// V8's gc() extension, taken for this module only (the rest of the process sees no global gc()), to give the heap a
// role grew under load back to the system once it is idle. Node has no public API that makes V8 shrink its young
// generation or release its pooled pages, and V8's own memory reducer never starts in a process that stopped
// allocating: it keeps seeing the last load's allocation rate ("high alloc") and waits again, for ever.
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LibraryAssumptionError } from './library-assumption.js';

type GcExtension = (options?: {
  type?: 'major' | 'minor';
  execution?: 'sync' | 'async';
  flavor?: 'regular' | 'last-resort';
}) => void;

let gc: GcExtension | undefined;

function assumptionBroken(assumption: string): LibraryAssumptionError {
  return new LibraryAssumptionError(
    'node',
    `${process.versions.node} (V8 ${process.versions.v8})`,
    assumption,
  );
}

/** V8's gc extension, as `--expose-gc` installs it in a new context; the flag is off again for every later one. */
function gcExtension(): GcExtension {
  if (gc) return gc;
  setFlagsFromString('--expose-gc');
  try {
    const fn: unknown = runInNewContext('typeof gc === "function" ? gc : undefined');
    if (typeof fn !== 'function') throw assumptionBroken('--expose-gc installs gc() in a new vm context');
    gc = fn as GcExtension;
    return gc;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}

/** The boot check: throws a LibraryAssumptionError when V8 no longer hands out its gc extension. */
export function assumeGcExtension(): void {
  gcExtension();
}

/** Bytes V8 has reserved for its young generation (what a load grows most and an idle process keeps). */
export function youngGenerationBytes(): number {
  return getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

/**
 * A full collection as V8 makes it under memory pressure (`flavor: 'last-resort'`): it also shrinks the young
 * generation to its minimum and releases the pages V8 keeps pooled. A regular full collection does neither.
 * Returns the young generation's size before and after; blocks the thread for tens of milliseconds.
 */
export function collectAllAvailableGarbage(): { youngBefore: number; youngAfter: number } {
  const youngBefore = youngGenerationBytes();
  gcExtension()({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  return { youngBefore, youngAfter: youngGenerationBytes() };
}

/** What a collection that left a grown young generation as it was means: V8 no longer honours the flavor. */
export function lastResortIgnored(): LibraryAssumptionError {
  return assumptionBroken("gc({ flavor: 'last-resort' }) shrinks the young generation");
}
