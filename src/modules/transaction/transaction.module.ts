import { Module } from '@nestjs/common';
import { definePart } from '../../platform/part.js';
import { provideClients } from '../../platform/transport/rpc-clients.js';
import { authContract, AuthClient } from '../auth/contract.js';
import { pspContract, PspClient } from '../psp/contract.js';
import { BearerTokenGuard } from './bearer-token.guard.js';
import { CreateTransactionUseCase } from './create-transaction.use-case.js';
import { CreateTransactions1764100000100 } from './migrations/1764100000100-create-transactions.js';
import { OutboxTraceparent1765100000100 } from './migrations/1765100000100-outbox-traceparent.js';
import { OutboxRecordEntity } from './outbox-record.entity.js';
import { OutboxDispatcher } from './outbox.dispatcher.js';
import { OutboxRepository } from './outbox.repository.js';
import { TransactionStatsController } from './transaction-stats.controller.js';
import { TransactionStatsRepository } from './transaction-stats.repository.js';
import { TransactionController } from './transaction.controller.js';
import { TransactionEntity } from './transaction.entity.js';
import { transactionSettings } from './transaction.settings.js';
import { TransactionsRepository } from './transactions.repository.js';
import { VerifiedTokenCache } from './verified-token.cache.js';

@Module({
  controllers: [TransactionController, TransactionStatsController],
  providers: [
    TransactionsRepository,
    TransactionStatsRepository,
    OutboxRepository,
    OutboxDispatcher,
    CreateTransactionUseCase,
    BearerTokenGuard,
    VerifiedTokenCache,
    ...provideClients(AuthClient, PspClient),
  ],
})
export class TransactionModule {}

export const transactionPart = definePart({
  name: 'transaction',
  module: TransactionModule,
  settings: transactionSettings,
  entities: [TransactionEntity, OutboxRecordEntity],
  migrations: [CreateTransactions1764100000100, OutboxTraceparent1765100000100],
  calls: [authContract, pspContract],
});
