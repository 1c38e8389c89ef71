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
