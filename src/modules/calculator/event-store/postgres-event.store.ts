// The calculator's event log in PostgreSQL: one multi-row INSERT per batch (the EventBuffer's writer) and ordered
// reads by global sequence. Inserting is idempotent per event id, so the buffer may retry a batch blindly.
import type { EventWriter } from './event-buffer.js';
import type { NewCalculatorEvent, StoredCalculatorEvent } from './calculator-event.types.js';
import { CALCULATOR_EVENTS_TABLE } from './calculator-event.entity.js';

/** What the store needs from a connection: a TypeORM DataSource or EntityManager, or a pg Pool, all fit. */
export interface SqlQueryable {
  query(sql: string, params?: unknown[]): Promise<any>;
}

const COLUMNS = ['event_id', 'type', 'request_id', 'payload', 'created_at', 'instance'] as const;

/**
 * One INSERT takes at most 65535 parameters; a batch must be one statement to stay all-or-nothing (a retried
 * batch must not duplicate half of itself), so batches are capped rather than split.
 */
export const MAX_EVENTS_PER_WRITE = Math.floor(65535 / COLUMNS.length);

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
    const params: unknown[] = [];
    const rows = events.map((e) => {
      const base = params.length;
      params.push(
        e.id,
        e.type,
        e.requestId,
        JSON.stringify(e.payload),
        e.createdAt.toISOString(),
        e.instance,
      );
      const p = (i: number) => `$${base + i}`;
      return `(${p(1)}::uuid, ${p(2)}, ${p(3)}, ${p(4)}::jsonb, ${p(5)}::timestamptz, ${p(6)})`;
    });
    // VALUES rows take their bigserial in list order, so the log keeps the buffer's order. An event already stored
    // (a retry after the reply to a committed INSERT was lost) is skipped rather than duplicated.
    await this.db.query(
      `INSERT INTO "${CALCULATOR_EVENTS_TABLE}" (${COLUMNS.map((c) => `"${c}"`).join(', ')}) VALUES ${rows.join(', ')}
       ON CONFLICT ("event_id") DO NOTHING`,
      params,
    );
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
