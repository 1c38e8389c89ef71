// The transactions table and its outbox, owned by this module. A transaction and its outbox record are written
// by one SQL statement (one database transaction, one round trip) before the API answers 200; requests arriving
// while earlier ones are being written share the next statement (group commit), so under load a commit carries
// many transactions.
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { WriteBatcher } from '../../platform/database/write-batcher.js';
import { timeOrderedUuid } from '../../platform/ids.js';
import type { TransactionStatus } from './contract.js';
import { preparedQuery } from './prepared-query.util.js';

export interface NewTransaction {
  userId: number;
  /** Exact decimal text with two places. */
  amount: string;
  currency: string;
  idempotencyKey?: string;
  requestHash: string;
  /** Carried to the outbox so the delivery logs under the same request id. */
  requestId?: string;
  /** Carried to the outbox so the delivery joins the request's trace. */
  traceparent?: string;
}

export interface StoredTransaction {
  id: string;
  userId: number;
  amount: string;
  currency: string;
  status: TransactionStatus;
  failureReason: string | null;
  requestHash: string;
  createdAt: Date;
  completedAt: Date | null;
}

const COLUMNS = `id, user_id AS "userId", amount::text AS amount, currency, status,
  failure_reason AS "failureReason", request_hash AS "requestHash", created_at AS "createdAt",
  completed_at AS "completedAt"`;

// The batch arrives as one array per column; ids are made here so each request finds its row in RETURNING. A
// second request with an idempotency key already in the batch is skipped by ON CONFLICT like one already stored.
const CREATE = `WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::int[], $3::numeric[], $4::text[], $5::text[], $6::text[], $7::text[],
        $8::text[])
      WITH ORDINALITY AS i(id, user_id, amount, currency, idempotency_key, request_hash, request_id, traceparent, n)
  ), t AS (
    INSERT INTO transactions (id, user_id, amount, currency, idempotency_key, request_hash)
    SELECT id, user_id, amount, currency, idempotency_key, request_hash FROM input ORDER BY n
    ON CONFLICT (user_id, idempotency_key) DO NOTHING
    RETURNING *
  ), o AS (
    INSERT INTO transaction_outbox (transaction_id, request_id, traceparent)
    SELECT t.id, input.request_id, input.traceparent FROM t JOIN input USING (id) ORDER BY input.n
  )
  SELECT ${COLUMNS} FROM t`;

/**
 * Statements in flight at once (under a third of the pool, which the dispatcher and reads share); requests arriving
 * meanwhile wait for the next.
 */
const CREATES_IN_FLIGHT = 3;
const MAX_CREATES_PER_STATEMENT = 500;

type NewRow = NewTransaction & { id: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

@Injectable()
export class TransactionsRepository {
  private readonly creates = new WriteBatcher<NewRow, StoredTransaction | undefined>(
    (rows) => this.insertAll(rows),
    { maxBatch: MAX_CREATES_PER_STATEMENT, maxInFlight: CREATES_IN_FLIGHT },
  );

  constructor(private readonly db: DataSource) {}

  /**
   * Inserts the transaction and its outbox record atomically. With an idempotency key already used by this
   * user nothing is written and `created` is false: the caller compares the stored transaction's request hash.
   */
  async create(t: NewTransaction): Promise<{ created: boolean; transaction: StoredTransaction }> {
    const stored = await this.creates.submit({ ...t, id: timeOrderedUuid() });
    if (stored) return { created: true, transaction: stored };
    const existing: StoredTransaction[] = await this.db.query(
      `SELECT ${COLUMNS} FROM transactions WHERE user_id = $1 AND idempotency_key = $2`,
      [t.userId, t.idempotencyKey],
    );
    if (!existing[0]) throw new Error('idempotency conflict without a stored transaction');
    return { created: false, transaction: existing[0] };
  }

  /** One statement for the batch; undefined where an idempotency key was taken. */
  private async insertAll(batch: NewRow[]): Promise<Array<StoredTransaction | undefined>> {
    const rows = await preparedQuery<StoredTransaction>(this.db, 'transactions.create', CREATE, [
      batch.map((t) => t.id),
      batch.map((t) => t.userId),
      batch.map((t) => t.amount),
      batch.map((t) => t.currency),
      batch.map((t) => t.idempotencyKey ?? null),
      batch.map((t) => t.requestHash),
      batch.map((t) => t.requestId ?? null),
      batch.map((t) => t.traceparent ?? null),
    ]);
    const byId = new Map(rows.map((r) => [r.id, r]));
    return batch.map((t) => byId.get(t.id));
  }

  async findForUser(id: string, userId: number): Promise<StoredTransaction | undefined> {
    if (!UUID.test(id)) return undefined;
    const rows: StoredTransaction[] = await this.db.query(
      `SELECT ${COLUMNS} FROM transactions WHERE id = $1 AND user_id = $2`,
      [id, userId],
    );
    return rows[0];
  }
}
