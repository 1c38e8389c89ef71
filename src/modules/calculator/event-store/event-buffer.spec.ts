import {
  DrainTimeoutError,
  EventBuffer,
  type EventBufferOptions,
  type EventWriter,
  type Scheduler,
  type WriteFailure,
} from './event-buffer.js';

/** A clock the test advances by hand: timers fire only when told to, so nothing depends on real time. */
class ManualScheduler implements Scheduler {
  private timers: { ms: number; fn: () => void }[] = [];

  schedule(ms: number, fn: () => void): () => void {
    const timer = { ms, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  get pendingDelays(): number[] {
    return this.timers.map((t) => t.ms);
  }

  /** Fires every timer armed so far (not the ones they arm in turn). */
  fireAll(): void {
    const due = this.timers;
    this.timers = [];
    for (const t of due) t.fn();
  }
}

/** The store stand-in: records each batch; can be taken down, or held mid-write. */
class MemoryWriter implements EventWriter<number> {
  readonly batches: number[][] = [];
  private downWith: Error | undefined;
  private gate: Promise<void> | undefined;
  private openGate: (() => void) | undefined;
  calls = 0;

  async write(events: readonly number[]): Promise<void> {
    this.calls += 1;
    if (this.gate) await this.gate;
    if (this.downWith) throw this.downWith;
    this.batches.push([...events]);
  }

  get stored(): number[] {
    return this.batches.flat();
  }

  down(): void {
    this.downWith = new Error('connection refused');
  }

  up(): void {
    this.downWith = undefined;
  }

  hold(): void {
    this.gate = new Promise((resolve) => (this.openGate = resolve));
  }

  release(): void {
    this.gate = undefined;
    this.openGate?.();
  }
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

function setup(overrides: Partial<EventBufferOptions<number>> = {}) {
  const writer = new MemoryWriter();
  const scheduler = new ManualScheduler();
  const failures: WriteFailure[] = [];
  const health: boolean[] = [];
  const buffer = new EventBuffer<number>({
    writer,
    scheduler,
    flushMs: 50,
    batchSize: 4,
    maxBuffer: 8,
    retry: { initialMs: 100, maxMs: 400 },
    jitter: () => 1, // the top of each jittered retry wait: the ceilings themselves
    onWriteFailed: (f) => failures.push(f),
    onHealthChange: (h) => health.push(h),
    ...overrides,
  });
  return { writer, scheduler, buffer, failures, health };
}

function track(p: Promise<void>) {
  const state = { done: false };
  void p.then(() => (state.done = true));
  return state;
}

describe(EventBuffer.name, () => {
  it('holds events until the flush interval passes, then writes them in order', async () => {
    const { writer, scheduler, buffer } = setup();
    await buffer.append(1, 2);
    await buffer.append(3);
    await settle();
    expect(writer.calls).toBe(0);
    expect(scheduler.pendingDelays).toEqual([50]);

    scheduler.fireAll();
    await settle();
    expect(writer.batches).toEqual([[1, 2, 3]]);
  });

  it('writes a full batch at once, without waiting for the interval', async () => {
    const { writer, buffer } = setup();
    await buffer.append(1, 2, 3, 4);
    await settle();
    expect(writer.batches).toEqual([[1, 2, 3, 4]]);
  });

  it('splits a backlog into batches of at most batchSize, keeping order', async () => {
    const { writer, buffer } = setup();
    writer.hold();
    await buffer.append(...range(1, 4));
    await buffer.append(...range(5, 4));
    writer.release();
    await buffer.drain();
    expect(writer.batches).toEqual([range(1, 4), range(5, 4)]);
  });

  it('makes a full buffer wait instead of dropping, then admits it once a write frees room', async () => {
    const { writer, buffer } = setup();
    writer.hold();
    await buffer.append(...range(1, 8));
    const blocked = track(buffer.append(9));
    await settle();
    expect({ done: blocked.done, waiting: buffer.stats().waitingAppends }).toEqual({
      done: false,
      waiting: 1,
    });

    writer.release();
    await buffer.drain();
    expect(blocked.done).toBe(true);
    expect(writer.stored).toEqual(range(1, 9));
  });

  it('keeps later appends behind one that is waiting for room, even if they would fit', async () => {
    const { writer, buffer } = setup();
    writer.hold();
    await buffer.append(...range(1, 6));
    const big = track(buffer.append(7, 8, 9));
    const small = track(buffer.append(10));
    await settle();
    expect([big.done, small.done]).toEqual([false, false]);

    writer.release();
    await buffer.drain();
    expect(writer.stored).toEqual(range(1, 10));
  });

  it('takes an append larger than the whole bound into an empty buffer', async () => {
    const { writer, buffer } = setup();
    await buffer.append(...range(1, 10));
    await buffer.drain();
    expect(writer.stored).toEqual(range(1, 10));
  });

  describe('when the store fails', () => {
    it('keeps the events and retries the same batch after a growing, capped backoff', async () => {
      const { writer, scheduler, buffer, failures } = setup();
      writer.down();
      await buffer.append(1, 2, 3, 4);
      for (let i = 0; i < 4; i++) {
        await settle();
        scheduler.fireAll();
      }
      await settle();
      expect(failures.map((f) => f.retryInMs)).toEqual([100, 200, 400, 400, 400]);
      expect(buffer.stats().buffered).toBe(4);

      writer.up();
      scheduler.fireAll();
      await settle();
      expect(writer.batches).toEqual([[1, 2, 3, 4]]);
    });

    it('reports unhealthy on the first failure and healthy again after the next success', async () => {
      const { writer, scheduler, buffer, health } = setup();
      writer.down();
      await buffer.append(1, 2, 3, 4);
      await settle();
      expect(buffer.healthy).toBe(false);

      writer.up();
      scheduler.fireAll();
      await settle();
      expect({ healthy: buffer.healthy, changes: health }).toEqual({ healthy: true, changes: [false, true] });
    });

    it('loses nothing across an outage with traffic still arriving', async () => {
      const { writer, scheduler, buffer } = setup();
      writer.down();
      await buffer.append(...range(1, 4));
      await settle();
      await buffer.append(...range(5, 4));
      const blocked = track(buffer.append(...range(9, 3)));
      await settle();
      expect(blocked.done).toBe(false);

      writer.up();
      scheduler.fireAll();
      await buffer.drain();
      expect(writer.stored).toEqual(range(1, 11));
    });
  });

  describe('writing through (flushMs = 0)', () => {
    it('resolves an append only once its events are stored', async () => {
      const { writer, buffer } = setup({ flushMs: 0 });
      writer.hold();
      const pending = track(buffer.append(1));
      await settle();
      expect(pending.done).toBe(false);

      writer.release();
      await settle();
      expect({ done: pending.done, stored: writer.stored }).toEqual({ done: true, stored: [1] });
    });

    it('groups appends that arrive during a write into the next one', async () => {
      const { writer, buffer } = setup({ flushMs: 0 });
      writer.hold();
      const first = buffer.append(1);
      await settle();
      const rest = [buffer.append(2), buffer.append(3)];
      writer.release();
      await Promise.all([first, ...rest]);
      expect(writer.batches).toEqual([[1], [2, 3]]);
    });

    it('keeps an append waiting through an outage until its events are stored', async () => {
      const { writer, scheduler, buffer } = setup({ flushMs: 0 });
      writer.down();
      const pending = track(buffer.append(1));
      await settle();
      expect(pending.done).toBe(false);

      writer.up();
      scheduler.fireAll();
      await settle();
      expect(pending.done).toBe(true);
    });
  });

  describe('flushing', () => {
    it('writes what is buffered without waiting for the interval and resolves once it is stored', async () => {
      const { writer, buffer } = setup();
      await buffer.append(1, 2);
      await buffer.flush();
      expect(writer.stored).toEqual([1, 2]);
    });

    it('waits for a write already in flight and then writes the rest', async () => {
      const { writer, buffer } = setup();
      writer.hold();
      await buffer.append(...range(1, 4));
      await buffer.append(5);
      const flushed = track(buffer.flush());
      await settle();
      expect(flushed.done).toBe(false);
      writer.release();
      await settle();
      await settle();
      expect({ done: flushed.done, stored: writer.stored }).toEqual({ done: true, stored: range(1, 5) });
    });

    it('resolves at once when everything is stored', async () => {
      const { buffer } = setup();
      await expect(buffer.flush()).resolves.toBeUndefined();
    });
  });

  describe('draining', () => {
    it('writes everything at once without waiting for the interval', async () => {
      const { writer, buffer } = setup();
      await buffer.append(1, 2);
      await buffer.drain();
      expect(writer.stored).toEqual([1, 2]);
    });

    it('writes appends that arrive after it started right away', async () => {
      const { writer, buffer } = setup();
      await buffer.drain();
      await buffer.append(1);
      await settle();
      expect(writer.stored).toEqual([1]);
    });

    it('retries at once instead of sitting out the backoff', async () => {
      const { writer, buffer } = setup();
      writer.down();
      await buffer.append(1, 2, 3, 4);
      await settle();
      writer.up();
      await buffer.drain();
      expect(writer.stored).toEqual([1, 2, 3, 4]);
    });

    it('gives up at the deadline naming what is still unwritten, keeping it buffered', async () => {
      const { writer, scheduler, buffer } = setup();
      writer.down();
      await buffer.append(1, 2);
      const drained = buffer.drain({ deadlineMs: 1000 });
      await settle();
      scheduler.fireAll();
      await expect(drained).rejects.toEqual(new DrainTimeoutError(2));
      expect(buffer.stats().buffered).toBe(2);
    });
  });

  it('refuses a bound smaller than a batch', () => {
    expect(() => setup({ batchSize: 10, maxBuffer: 5 })).toThrow(/maxBuffer/);
  });
});
