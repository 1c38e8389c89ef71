// The outbox queue: claiming due records under a lease (FOR UPDATE SKIP LOCKED, so replicas never hold the same
// record at once) and settling them together with their transaction's status. Lease times are the database's
// clock, so replicas with skewed clocks agree on when a claim has expired.
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { PaymentOrder } from '../psp/contract.js';
import { preparedQuery } from './prepared-query.util.js';

export interface ClaimedRecord {
  id: string;
  transactionId: string;
  payload: PaymentOrder;
  requestId: string | null;
  /** The creating request's W3C traceparent, when it was traced. */
  traceparent: string | null;
  /** Including the current one. */
  attempts: number;
}

@Injectable()
export class OutboxRepository {
  constructor(private readonly db: DataSource) {}

  /** One round trip: the claim, and the claimed records joined with their transactions (the join gives the order). */
  async claim(limit: number, leaseMs: number): Promise<ClaimedRecord[]> {
    return preparedQuery<ClaimedRecord>(
      this.db,
      'outbox.claim',
      `WITH claimed AS (
         UPDATE transaction_outbox o
         SET claimed_until = now() + make_interval(secs => $2::float8 / 1000), attempts = o.attempts + 1
         FROM (
           SELECT id FROM transaction_outbox
           WHERE next_attempt_at <= now() AND (claimed_until IS NULL OR claimed_until < now())
           ORDER BY id
           LIMIT $1
           FOR UPDATE SKIP LOCKED
         ) due
         WHERE o.id = due.id
         RETURNING o.id, o.transaction_id, o.request_id, o.traceparent, o.attempts
       )
       SELECT c.id::text AS id, c.transaction_id AS "transactionId", c.request_id AS "requestId",
         c.traceparent, c.attempts,
         json_build_object('id', t.id, 'user_id', t.user_id, 'amount', t.amount::text, 'currency', t.currency)
           AS payload
       FROM claimed c JOIN transactions t ON t.id = c.transaction_id`,
      [limit, leaseMs],
    );
  }

  /** The psp acknowledged these: their transactions are completed and the records leave the queue. */
  async complete(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await preparedQuery(
      this.db,
      'outbox.complete',
      `WITH done AS (
         DELETE FROM transaction_outbox WHERE id = ANY($1::bigint[]) RETURNING transaction_id
       )
       UPDATE transactions SET status = 'completed', completed_at = now()
       WHERE id IN (SELECT transaction_id FROM done) AND status = 'pending'`,
      [ids],
    );
  }

  /** The psp refused this one for good: the transaction fails with the reason and the record leaves the queue. */
  async fail(id: string, reason: string): Promise<void> {
    await this.db.query(
      `WITH done AS (
         DELETE FROM transaction_outbox WHERE id = $1::bigint RETURNING transaction_id
       )
       UPDATE transactions SET status = 'failed', failure_reason = $2, completed_at = now()
       WHERE id IN (SELECT transaction_id FROM done) AND status = 'pending'`,
      [id, reason],
    );
  }

  /** Releases the claim and schedules the next attempt. */
  async retryLater(id: string, delayMs: number, error: string): Promise<void> {
    await this.db.query(
      `UPDATE transaction_outbox
       SET claimed_until = NULL, next_attempt_at = now() + make_interval(secs => $2::float8 / 1000),
           last_error = $3
       WHERE id = $1::bigint`,
      [id, delayMs, error],
    );
  }

  async backlog(): Promise<number> {
    const [row] = await this.db.query(`SELECT count(*)::int AS n FROM transaction_outbox`);
    return row.n as number;
  }
}
