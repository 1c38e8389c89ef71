// The transactions table and its outbox, owned by this module. A transaction and its outbox record are written
// by one SQL statement (one database transaction, one round trip) before the API answers 200.
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
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

const CREATE = `WITH t AS (
    INSERT INTO transactions (user_id, amount, currency, idempotency_key, request_hash)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (user_id, idempotency_key) DO NOTHING
    RETURNING *
  ), o AS (
    INSERT INTO transaction_outbox (transaction_id, request_id) SELECT id, $6::varchar FROM t
  )
  SELECT ${COLUMNS} FROM t`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

@Injectable()
export class TransactionsRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * Inserts the transaction and its outbox record atomically. With an idempotency key already used by this
   * user nothing is written and `created` is false: the caller compares the stored transaction's request hash.
   */
  async create(t: NewTransaction): Promise<{ created: boolean; transaction: StoredTransaction }> {
    const rows = await preparedQuery<StoredTransaction>(this.db, 'transactions.create', CREATE, [
      t.userId,
      t.amount,
      t.currency,
      t.idempotencyKey ?? null,
      t.requestHash,
      t.requestId ?? null,
    ]);
    if (rows[0]) return { created: true, transaction: rows[0] };
    const existing: StoredTransaction[] = await this.db.query(
      `SELECT ${COLUMNS} FROM transactions WHERE user_id = $1 AND idempotency_key = $2`,
      [t.userId, t.idempotencyKey],
    );
    if (!existing[0]) throw new Error('idempotency conflict without a stored transaction');
    return { created: false, transaction: existing[0] };
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
