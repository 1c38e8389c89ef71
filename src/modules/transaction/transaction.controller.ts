// HTTP doors of the transaction API, on the original's external path /transaction/transaction.
import {
  Body,
  Controller,
  Get,
  Header,
  Headers,
  HttpCode,
  Param,
  Post,
  Req,
  Res,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AppError } from '../../platform/errors/app-error.js';
import { Protected } from '../../platform/http/access.decorator.js';
import { nonJsonRefusal } from '../../platform/http/json-only.js';
import { BearerTokenGuard, type AuthenticatedRequest } from './bearer-token.guard.js';
import type { AcceptedTransaction, TransactionView } from './contract.js';
import { accepted, CreateTransactionUseCase } from './create-transaction.use-case.js';
import { TransactionsRepository } from './transactions.repository.js';

@ApiTags('transaction')
@Controller('transaction')
export class TransactionController {
  constructor(
    private readonly create: CreateTransactionUseCase,
    private readonly transactions: TransactionsRepository,
  ) {}

  /**
   * Protected by the token in the body or the Authorization header, which CreateTransactionUseCase checks after
   * the original's 422 answers (so not by a guard, which would run before them). JSON only: a form post from
   * another site's page must not pay. The answer is one user's: never stored.
   */
  @Protected()
  @Post('transaction')
  @HttpCode(200)
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiBody({
    schema: {
      type: 'object',
      properties: {
        amount: { oneOf: [{ type: 'number' }, { type: 'string' }], example: 100 },
        currency: { type: 'string', example: 'USD' },
        token: { type: 'string' },
      },
    },
  })
  async createTransaction(
    @Body() body: unknown,
    @Headers() headers: Record<string, string | undefined>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AcceptedTransaction> {
    const refused = nonJsonRefusal(headers['content-type']);
    if (refused) throw refused;
    void reply.header('cache-control', 'no-store');
    const { transaction, replayed } = await this.create.execute({
      body,
      authorization: headers.authorization,
      idempotencyKey: headers['idempotency-key'],
    });
    if (replayed) void reply.header('idempotent-replayed', 'true');
    return transaction;
  }

  @Protected()
  @UseGuards(BearerTokenGuard)
  @ApiBearerAuth()
  @Get('transaction/:id')
  @Header('cache-control', 'no-store')
  async findTransaction(@Param('id') id: string, @Req() req: AuthenticatedRequest): Promise<TransactionView> {
    const t = await this.transactions.findForUser(id, req.user!.user_id);
    if (!t) throw new AppError(404, 'not_found', 'Transaction not found');
    return {
      ...accepted(t),
      ...(t.failureReason ? { failure_reason: t.failureReason } : {}),
      created_at: new Date(t.createdAt).toISOString(),
      ...(t.completedAt ? { completed_at: new Date(t.completedAt).toISOString() } : {}),
    };
  }
}
