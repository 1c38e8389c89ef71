// POST /transaction/transaction: the original's checks, the token through auth.verify (remembered until it
// expires), then the transaction and its outbox record written durably before answering. An Idempotency-Key
// replays the first answer's transaction.
import { Injectable } from '@nestjs/common';
import { AppError } from '../../platform/errors/app-error.js';
import { currentRequestId } from '../../platform/logging/request-context.js';
import { currentTraceparent } from '../../platform/tracing/tracing.js';
import type { AcceptedTransaction } from './contract.js';
import { OutboxDispatcher } from './outbox.dispatcher.js';
import { parseIdempotencyKey, parseTransactionRequest, requestHash } from './transaction-request.js';
import { TransactionsRepository, type StoredTransaction } from './transactions.repository.js';
import { VerifiedTokenCache } from './verified-token.cache.js';

export interface CreateTransactionInput {
  body: unknown;
  authorization?: unknown;
  idempotencyKey?: unknown;
}

export function accepted(t: StoredTransaction): AcceptedTransaction {
  return { amount: Number(t.amount), currency: t.currency, user_id: t.userId, id: t.id, status: t.status };
}

@Injectable()
export class CreateTransactionUseCase {
  constructor(
    private readonly tokens: VerifiedTokenCache,
    private readonly transactions: TransactionsRepository,
    private readonly dispatcher: OutboxDispatcher,
  ) {}

  async execute(
    input: CreateTransactionInput,
  ): Promise<{ transaction: AcceptedTransaction; replayed: boolean }> {
    const req = parseTransactionRequest(input.body, input.authorization);
    const idempotencyKey = parseIdempotencyKey(input.idempotencyKey);
    const user = await this.tokens.verify(req.token);
    if (!user.enabled) throw new AppError(403, 'user_disabled', 'User not enabled for transactions');
    const hash = requestHash(req);
    const { created, transaction } = await this.transactions.create({
      userId: user.user_id,
      amount: req.amount.toFixed(2),
      currency: req.currency,
      idempotencyKey,
      requestHash: hash,
      requestId: currentRequestId(),
      traceparent: currentTraceparent(),
    });
    if (created) this.dispatcher.poke();
    else if (transaction.requestHash !== hash)
      throw new AppError(
        409,
        'idempotency_key_reused',
        'Idempotency-Key was already used with a different request',
      );
    return { transaction: accepted(transaction), replayed: !created };
  }
}
