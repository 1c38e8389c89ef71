// Executes a payment exactly once per transaction id: the insert into processed_payments is the payment, and its
// primary key turns a redelivery into an acknowledgement without a second payment.
import { Injectable } from '@nestjs/common';
import { Decimal } from 'decimal.js';
import { DataSource } from 'typeorm';
import { BootContext } from '../../platform/boot-context.js';
import { AppError } from '../../platform/errors/app-error.js';
import { createLogger } from '../../platform/logging/logger.js';
import type { PaymentOrder, PaymentReceipt } from './contract.js';
import { pspSettings } from './psp.settings.js';

@Injectable()
export class PspService {
  private readonly log = createLogger('psp');
  private readonly delayMs: number;

  constructor(
    private readonly db: DataSource,
    boot: BootContext,
  ) {
    this.delayMs = boot.settings(pspSettings).delayMs;
  }

  async process(order: PaymentOrder): Promise<PaymentReceipt> {
    const amount = new Decimal(order.amount);
    if (amount.lte(0)) throw new AppError(422, 'invalid_amount', 'Amount must be greater than 0');
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    const inserted: unknown[] = await this.db.query(
      `INSERT INTO processed_payments (transaction_id, user_id, amount, currency)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (transaction_id) DO NOTHING
       RETURNING transaction_id`,
      [order.id, order.user_id, amount.toFixed(2), order.currency],
    );
    if (inserted.length === 0) {
      this.log.info({ transactionId: order.id }, 'payment already made; acknowledged without paying again');
      return { id: order.id, duplicate: true };
    }
    this.log.info(
      { transactionId: order.id, userId: order.user_id },
      `==> Making transaction with PSP: User ID: ${order.user_id}, Amount: ${amount.toString()}, Currency: ${order.currency}`,
    );
    return { id: order.id, duplicate: false };
  }
}
