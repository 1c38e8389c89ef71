// GET /transaction/stats: payments by status, the outbox backlog and the last transactions, for operators (the
// console's payments panel). Behind the operations guard, like the console itself.
import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Protected } from '../../platform/http/access.decorator.js';
import { OperationsGuard } from '../../platform/http/operations.guard.js';
import type { TransactionStats } from './contract.js';
import { TransactionStatsRepository } from './transaction-stats.repository.js';

@ApiTags('transaction')
@Controller('transaction')
export class TransactionStatsController {
  constructor(private readonly repository: TransactionStatsRepository) {}

  @Protected()
  @UseGuards(OperationsGuard)
  @ApiBearerAuth()
  @Get('stats')
  @Header('cache-control', 'no-store')
  stats(): Promise<TransactionStats> {
    return this.repository.stats();
  }
}
