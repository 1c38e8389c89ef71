import { openTestSchema, type TestSchema } from '../../../../test/harness/database.js';
import { CalculatorEventEntity } from './calculator-event.entity.js';
import type { NewCalculatorEvent } from './calculator-event.types.js';
import { EventBuffer } from './event-buffer.js';
import { CreateCalculatorEvents1763800000000 } from './migrations/1763800000000-create-calculator-events.js';
import { AddCalculatorEventId1763900000000 } from './migrations/1763900000000-add-calculator-event-id.js';
import { MAX_EVENTS_PER_WRITE, PostgresEventStore } from './postgres-event.store.js';

const instance = 'calculator@test-host';
let nextId = 0;
/** Deterministic UUIDs, one per event built. */
const eventId = () => `00000000-0000-4000-8000-${String(++nextId).padStart(12, '0')}`;
const at = new Date('2025-01-02T03:04:05.678Z');

const events = {
  requested: (requestId: string): NewCalculatorEvent => ({
    id: eventId(),
    type: 'CalculationRequested',
    requestId,
    payload: {
      method: 'factorial',
      input: { base: '20' },
      clientIp: '::ffff:127.0.0.1',
      at: at.toISOString(),
      instance,
    },
    createdAt: at,
    instance,
  }),
  completed: (requestId: string): NewCalculatorEvent => ({
    id: eventId(),
    type: 'CalculationCompleted',
    requestId,
    payload: { method: 'factorial', result: '2432902008176640000' },
    createdAt: at,
    instance,
  }),
  failed: (requestId: string): NewCalculatorEvent => ({
    id: eventId(),
    type: 'CalculationFailed',
    requestId,
    payload: { method: 'summation', code: 'OUT_OF_RANGE', message: 'overflow' },
    createdAt: at,
    instance,
  }),
};

describe(PostgresEventStore.name, () => {
  let db: TestSchema;
  let store: PostgresEventStore;

  beforeEach(async () => {
    db = await openTestSchema({
      entities: [CalculatorEventEntity],
      migrations: [CreateCalculatorEvents1763800000000, AddCalculatorEventId1763900000000],
    });
    store = new PostgresEventStore(db.dataSource);
  });
  afterEach(async () => {
    await db.drop();
  });

  it('stores a batch and reads it back in order with every field', async () => {
    const batch = [events.requested('r1'), events.completed('r1'), events.failed('r2')];
    await store.write(batch);

    const read = await store.readAfter('0', 10);
    expect(read.map(({ seq: _seq, ...rest }) => rest)).toEqual(batch);
    expect(read.map((e) => BigInt(e.seq))).toEqual([1n, 2n, 3n]);
  });

  it('stores text that array and JSON syntax treat specially exactly as given', async () => {
    const awkward = `quote " backslash \\ braces {} comma , NULL ü 😀 \u0001`;
    const batch: NewCalculatorEvent[] = [
      {
        ...events.failed('r"1'),
        instance: `${instance} {x,"y"}`,
        payload: { method: 'summation', code: 'OUT_OF_RANGE', message: awkward },
      } as NewCalculatorEvent,
      { ...events.requested('NULL'), instance: '' },
    ];
    await store.write(batch);
    const read = await store.readAfter('0', 10);
    expect(read.map(({ seq: _seq, ...rest }) => rest)).toEqual(batch);
  });

  it('refuses, and stores nothing of, a batch with an event field that is not text', async () => {
    const broken = { ...events.completed('r2'), instance: undefined } as unknown as NewCalculatorEvent;
    await expect(store.write([events.requested('r1'), broken])).rejects.toThrow(/not text/);
    expect(await store.readAfter('0', 10)).toEqual([]);
  });

  it('continues the global sequence across batches', async () => {
    await store.write([events.requested('r1')]);
    await store.write([events.completed('r1')]);
    expect((await store.readAfter('0', 10)).map((e) => [e.seq, e.type])).toEqual([
      ['1', 'CalculationRequested'],
      ['2', 'CalculationCompleted'],
    ]);
  });

  it('reads the log in pages after a given sequence', async () => {
    await store.write(['a', 'b', 'c', 'd'].map(events.requested));
    const page = await store.readAfter('1', 2);
    expect(page.map((e) => [e.seq, e.requestId])).toEqual([
      ['2', 'b'],
      ['3', 'c'],
    ]);
  });

  it('stores a batch retried after an ambiguous failure only once', async () => {
    const batch = [events.requested('r1'), events.completed('r1')];
    await store.write(batch);
    await store.write([...batch, events.failed('r2')]);
    expect((await store.readAfter('0', 10)).map((e) => e.type)).toEqual([
      'CalculationRequested',
      'CalculationCompleted',
      'CalculationFailed',
    ]);
  });

  it('refuses to change or delete stored events', async () => {
    await store.write([events.requested('r1')]);
    await expect(db.dataSource.query(`UPDATE calculator_events SET type = 'x'`)).rejects.toThrow(
      /append-only/,
    );
    await expect(db.dataSource.query(`DELETE FROM calculator_events`)).rejects.toThrow(/append-only/);
  });

  it('refuses a batch too big for one statement rather than splitting it', async () => {
    const tooMany = Array.from({ length: MAX_EVENTS_PER_WRITE + 1 }, () => events.requested('r'));
    await expect(store.write(tooMany)).rejects.toThrow(/at most/);
  });

  it('has a table that matches its entity', async () => {
    const pending = await db.dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('receives everything an event buffer drains, in append order', async () => {
    const buffer = new EventBuffer<NewCalculatorEvent>({
      writer: store,
      flushMs: 50,
      batchSize: 3,
      maxBuffer: 6,
    });
    const ids = Array.from({ length: 10 }, (_, i) => `req-${i}`);
    for (const id of ids) await buffer.append(events.requested(id), events.completed(id));
    await buffer.drain();
    const read = await store.readAfter('0', 100);
    expect(read.map((e) => `${e.requestId}:${e.type}`)).toEqual(
      ids.flatMap((id) => [`${id}:CalculationRequested`, `${id}:CalculationCompleted`]),
    );
  });
});
