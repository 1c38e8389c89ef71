// Executes a payment exactly once per transaction id: the insert into processed_payments is the payment, and its
// primary key turns a redelivery into an acknowledgement without a second payment. Orders arriving together
// (a dispatcher delivers a batch at once) share one INSERT (WriteBatcher), so a burst costs one commit rather than
// one each.
import { Injectable } from '@nestjs/common';
import { Decimal } from 'decimal.js';
import { DataSource } from 'typeorm';
import { BootContext } from '../../platform/boot-context.js';
import { WriteBatcher } from '../../platform/database/write-batcher.js';
import { AppError } from '../../platform/errors/app-error.js';
import { createLogger } from '../../platform/logging/logger.js';
import type { PaymentOrder, PaymentReceipt } from './contract.js';
import { pspSettings } from './psp.settings.js';

interface Payment {
  order: PaymentOrder;
  amount: Decimal;
}

const MAX_PER_INSERT = 500;
const INSERTS_IN_FLIGHT = 2;

@Injectable()
export class PspService {
  private readonly log = createLogger('psp');
  private readonly delayMs: number;
  /** Answers, per payment, whether this insert made it (false: it had been made before). */
  private readonly payments = new WriteBatcher<Payment, boolean>((batch) => this.insertAll(batch), {
    maxBatch: MAX_PER_INSERT,
    maxInFlight: INSERTS_IN_FLIGHT,
  });

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
    const paid = await this.payments.submit({ order, amount });
    this.report(order, amount, paid);
    return { id: order.id, duplicate: !paid };
  }

  /** Writes a batch of payments in one statement. */
  private async insertAll(batch: Payment[]): Promise<boolean[]> {
    const rows: Array<{ transaction_id: string }> = await this.db.query(
      `INSERT INTO processed_payments (transaction_id, user_id, amount, currency)
       SELECT * FROM unnest($1::uuid[], $2::int[], $3::numeric[], $4::text[])
       ON CONFLICT (transaction_id) DO NOTHING
       RETURNING transaction_id`,
      [
        batch.map((p) => p.order.id),
        batch.map((p) => p.order.user_id),
        batch.map((p) => p.amount.toFixed(2)),
        batch.map((p) => p.order.currency),
      ],
    );
    const inserted = new Set(rows.map((r) => r.transaction_id));
    // The same id twice in one batch is paid for the first caller only.
    return batch.map((p) => inserted.delete(p.order.id));
  }

  private report(order: PaymentOrder, amount: Decimal, paid: boolean): void {
    if (!paid) {
      this.log.info({ transactionId: order.id }, 'payment already made; acknowledged without paying again');
      return;
    }
    this.log.info(
      { transactionId: order.id, userId: order.user_id },
      `==> Making transaction with PSP: User ID: ${order.user_id}, Amount: ${amount.toString()}, Currency: ${order.currency}`,
    );
  }
}
