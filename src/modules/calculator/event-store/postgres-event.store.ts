// The calculator's event log in PostgreSQL: one multi-row INSERT per batch (the EventBuffer's writer) and ordered
// reads by global sequence. Writing is idempotent per event id, so the buffer may retry a batch blindly.
import { isoString } from '../../../platform/clock.js';
import type { EventWriter } from './event-buffer.js';
import type { NewCalculatorEvent, StoredCalculatorEvent } from './calculator-event.types.js';
import { CALCULATOR_EVENTS_TABLE } from './calculator-event.entity.js';

/** What the store needs from a connection: a TypeORM DataSource or EntityManager, or a pg Pool, all fit. */
export interface SqlQueryable {
  query(sql: string, params?: unknown[]): Promise<any>;
}

/**
 * A batch is one statement so it stays all-or-nothing; the cap keeps that statement (and a retry of it) modest.
 * The settings refuse a larger EVENTSTORE_BATCH_SIZE.
 */
export const MAX_EVENTS_PER_WRITE = 10_000;

// The batch travels as one array parameter per column, zipped back into rows by ROWS FROM in order; the payloads
// as one JSON array, which PostgreSQL parses once and node-pg sends as it is (as a jsonb[] every payload had to be
// escaped into an array literal, a fifth of the writer's CPU). Measured here: a third more events per second than
// jsonb[], which was itself a fifth more than the whole batch as one JSON document through json_to_recordset.
// Rows take their bigserial in ORDER BY position, i.e. batch order, so the log keeps the buffer's order.
const insertBatch = (onConflict: string) => `
  INSERT INTO "${CALCULATOR_EVENTS_TABLE}" ("event_id", "type", "request_id", "payload", "created_at", "instance")
  SELECT id, type, request_id, payload, created_at, instance
  FROM ROWS FROM (
    unnest($1::uuid[]), unnest($2::text[]), unnest($3::text[]), jsonb_array_elements($4::jsonb),
    unnest($5::timestamptz[]), unnest($6::text[])
  ) WITH ORDINALITY AS batch(id, type, request_id, payload, created_at, instance, position)
  ORDER BY position
  ${onConflict}`;
const INSERT_BATCH = insertBatch('');
// A batch holding an event already stored (a retry after the reply to a committed INSERT was lost) goes again with
// those skipped rather than duplicated. Only then: ON CONFLICT's speculative insertion costs PostgreSQL about an
// eighth more per row, and nearly every batch is new.
const INSERT_BATCH_SKIPPING_STORED = insertBatch('ON CONFLICT ("event_id") DO NOTHING');
const EVENT_ID_KEY = 'calculator_events_event_id_key';

/** A unique violation of the event id, from pg directly or wrapped by TypeORM. */
function isStoredEventConflict(err: unknown): boolean {
  const e = err as {
    code?: string;
    constraint?: string;
    driverError?: { code?: string; constraint?: string };
  };
  const cause = e?.driverError ?? e;
  return cause?.code === '23505' && cause.constraint === EVENT_ID_KEY;
}

/**
 * A string as the inside of a quoted PostgreSQL array element. The store writes its array literals itself: node-pg's
 * own runs two regex replaces per element (2.7% of the calculator role's CPU under gRPC load); encoding a 500-event
 * batch went from 1.0 to 0.6 µs per event.
 */
function arrayElement(value: string): string {
  if (typeof value !== 'string') throw new TypeError(`an event field is ${typeof value}, not text`);
  return value.includes('"') || value.includes('\\') ? value.replace(/["\\]/g, '\\$&') : value;
}

interface EventRow {
  seq: string;
  event_id: string | null;
  type: NewCalculatorEvent['type'];
  request_id: string;
  payload: NewCalculatorEvent['payload'];
  created_at: Date;
  instance: string;
}

export class PostgresEventStore implements EventWriter<NewCalculatorEvent> {
  constructor(private readonly db: SqlQueryable) {}

  async write(events: readonly NewCalculatorEvent[]): Promise<void> {
    if (events.length === 0) return;
    if (events.length > MAX_EVENTS_PER_WRITE) {
      throw new Error(`a batch holds at most ${MAX_EVENTS_PER_WRITE} events (got ${events.length})`);
    }
    const n = events.length;
    const payloads = new Array<unknown>(n);
    let ids = '{';
    let types = '{';
    let requestIds = '{';
    let createdAts = '{';
    let instances = '{';
    for (let i = 0; i < n; i++) {
      const e = events[i];
      const sep = i === 0 ? '"' : ',"';
      ids += sep + arrayElement(e.id) + '"';
      types += sep + arrayElement(e.type) + '"';
      requestIds += sep + arrayElement(e.requestId) + '"';
      payloads[i] = e.payload;
      createdAts += sep + isoString(e.createdAt) + '"';
      instances += sep + arrayElement(e.instance) + '"';
    }
    const params = [
      ids + '}',
      types + '}',
      requestIds + '}',
      JSON.stringify(payloads),
      createdAts + '}',
      instances + '}',
    ];
    try {
      await this.db.query(INSERT_BATCH, params);
    } catch (err) {
      if (!isStoredEventConflict(err)) throw err;
      await this.db.query(INSERT_BATCH_SKIPPING_STORED, params);
    }
  }

  /** Events with seq > `after`, in seq order. `after` is a decimal string (bigserial). */
  async readAfter(after: string, limit: number): Promise<StoredCalculatorEvent[]> {
    const rows: EventRow[] = await this.db.query(
      `SELECT "seq", "event_id", "type", "request_id", "payload", "created_at", "instance" FROM "${CALCULATOR_EVENTS_TABLE}"
       WHERE "seq" > $1::bigint ORDER BY "seq" LIMIT $2`,
      [after, limit],
    );
    return rows.map(
      (r) =>
        ({
          seq: String(r.seq),
          id: r.event_id ?? '',
          type: r.type,
          requestId: r.request_id,
          payload: r.payload,
          createdAt: new Date(r.created_at),
          instance: r.instance,
        }) as StoredCalculatorEvent,
    );
  }
}
