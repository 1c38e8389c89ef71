import { setTimeout as sleep } from 'node:timers/promises';
import type { AppLogger } from '../logging/logger.js';
import { youngGenerationBytes } from '../internals/v8-gc.js';
import { growYoungGeneration } from '../../../test/harness/young-generation.js';
import { startIdleHeapTrim, type IdleHeapTrim } from './idle-heap-trim.js';

const MB = 1_048_576;

/** A logger that keeps what it is given. */
function logger() {
  const info: unknown[][] = [];
  const error: unknown[][] = [];
  const log = {
    info: (...args: unknown[]) => info.push(args),
    error: (...args: unknown[]) => error.push(args),
  } as unknown as AppLogger;
  return { log, info, error };
}

/** Grows V8's young generation, as a load does. */
const allocate = () => growYoungGeneration(16 * MB);

/** Keeps the event loop busy (synchronous work in short slices) for `ms`. */
async function busyFor(ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const slice = performance.now() + 20;
    while (performance.now() < slice);
    await new Promise((r) => setImmediate(r));
  }
}

describe(startIdleHeapTrim.name, () => {
  let trim: IdleHeapTrim | undefined;
  afterEach(() => trim?.stop());

  it('gives a grown heap back after an idle period, once, and says so in one line', async () => {
    const { log, info } = logger();
    allocate();
    trim = startIdleHeapTrim({ idleMs: 200, log, minSlackBytes: 8 * MB });
    // Three idle periods: the first trims, the next two find nothing new to give back.
    await sleep(700);
    expect(trim.trims).toBe(1);
    expect(info).toHaveLength(1);
    const [fields, msg] = info[0] as [{ heapMb: number[]; rssMb: number[] }, string];
    expect(msg).toBe('idle: heap trimmed');
    expect(fields.heapMb[1]).toBeLessThan(fields.heapMb[0]);
    expect(youngGenerationBytes()).toBeLessThanOrEqual(4 * MB);
  });

  it('does not trim again until the heap has grown past what the last trim left', async () => {
    const { log } = logger();
    allocate();
    // A collection that gives nothing back: the heap's slack stays what it was after the first trim.
    let collections = 0;
    const collect = () => {
      collections++;
      return { youngBefore: 16 * MB, youngAfter: MB };
    };
    trim = startIdleHeapTrim({ idleMs: 100, log, minSlackBytes: MB, collect });
    await sleep(550);
    expect(collections).toBe(1);
  });

  it('leaves a busy process alone', async () => {
    const { log } = logger();
    allocate();
    trim = startIdleHeapTrim({ idleMs: 200, log, minSlackBytes: 8 * MB });
    await busyFor(700);
    expect(trim.trims).toBe(0);
  });

  it('does not trim a heap with little to give back', async () => {
    const { log } = logger();
    trim = startIdleHeapTrim({ idleMs: 100, log, minSlackBytes: 64 * 1024 * MB });
    await sleep(400);
    expect(trim.trims).toBe(0);
  });

  it('HEAP_TRIM_IDLE_MS=0 never trims', async () => {
    const { log } = logger();
    allocate();
    trim = startIdleHeapTrim({ idleMs: 0, log, minSlackBytes: 0 });
    await sleep(300);
    expect(trim.trims).toBe(0);
  });

  it('stops with an error naming Node.js when V8 leaves the young generation as it was', async () => {
    const { log, error } = logger();
    let collections = 0;
    const collect = () => {
      collections++;
      return { youngBefore: 64 * MB, youngAfter: 64 * MB };
    };
    trim = startIdleHeapTrim({ idleMs: 100, log, minSlackBytes: 0, collect });
    await sleep(450);
    expect(collections).toBe(1);
    expect(trim.trims).toBe(0);
    expect(String(error[0][1])).toContain(`node@${process.versions.node}`);
    expect(String(error[0][1])).toContain('idle heap trims stopped');
  });
});
