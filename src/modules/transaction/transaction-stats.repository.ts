// Read-only figures for operators: transactions by status, the outbox backlog and the last transactions. Reads
// only; the write path (transactions.repository.ts, outbox.repository.ts) is untouched by it.
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { TransactionStats, TransactionStatus } from './contract.js';

const LAST = 10;

@Injectable()
export class TransactionStatsRepository {
  constructor(private readonly db: DataSource) {}

  async stats(): Promise<TransactionStats> {
    const [counts, outbox, last] = await Promise.all([
      this.db.query(`SELECT status, count(*)::int AS n FROM transactions GROUP BY status`) as Promise<
        Array<{ status: TransactionStatus; n: number }>
      >,
      this.db.query(
        `SELECT count(*)::int AS backlog,
           (SELECT extract(epoch FROM now() - min(created_at)) * 1000 FROM transactions WHERE status = 'pending')
             AS "oldestPendingMs"
         FROM transaction_outbox`,
      ) as Promise<Array<{ backlog: number; oldestPendingMs: string | number | null }>>,
      this.db.query(
        `SELECT id, amount::text AS amount, currency, status, created_at AS "createdAt"
         FROM transactions ORDER BY created_at DESC, id LIMIT ${LAST}`,
      ) as Promise<
        Array<{ id: string; amount: string; currency: string; status: TransactionStatus; createdAt: Date }>
      >,
    ]);
    const byStatus: Record<TransactionStatus, number> = { pending: 0, completed: 0, failed: 0 };
    for (const c of counts) byStatus[c.status] = c.n;
    const oldest = outbox[0]?.oldestPendingMs;
    return {
      byStatus,
      outbox: {
        backlog: outbox[0]?.backlog ?? 0,
        oldestPendingAgeMs: oldest === null || oldest === undefined ? null : Math.round(Number(oldest)),
      },
      last: last.map((t) => ({
        id: t.id,
        amount: Number(t.amount),
        currency: t.currency,
        status: t.status,
        created_at: new Date(t.createdAt).toISOString(),
      })),
    };
  }
}
