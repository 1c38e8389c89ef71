// The transaction module serves no message patterns; this is the shape of what its HTTP API answers.

export type TransactionStatus = 'pending' | 'completed' | 'failed';

/** POST /transaction/transaction answers this: the original's fields plus id and status. */
export interface AcceptedTransaction {
  amount: number;
  currency: string;
  user_id: number;
  id: string;
  status: TransactionStatus;
}

/** GET /transaction/transaction/:id answers this. */
export interface TransactionView extends AcceptedTransaction {
  failure_reason?: string;
  created_at: string;
  completed_at?: string;
}

/** GET /transaction/stats: what an operator watches. Amounts and ids only; never a token or a user. */
export interface TransactionStats {
  byStatus: Record<TransactionStatus, number>;
  outbox: { backlog: number; oldestPendingAgeMs: number | null };
  last: Array<{
    id: string;
    amount: number;
    currency: string;
    status: TransactionStatus;
    created_at: string;
  }>;
}
