// Executes a payment exactly once per transaction id: the insert into processed_payments is the payment, and its
// primary key turns a redelivery into an acknowledgement without a second payment. Orders arriving together
// (a dispatcher delivers a batch at once) share one INSERT, so a burst costs one commit rather than one each.
import { Injectable } from '@nestjs/common';
import { Decimal } from 'decimal.js';
import { DataSource } from 'typeorm';
import { BootContext } from '../../platform/boot-context.js';
import { AppError } from '../../platform/errors/app-error.js';
import { createLogger } from '../../platform/logging/logger.js';
import { currentRequestId, requestContext } from '../../platform/logging/request-context.js';
import type { PaymentOrder, PaymentReceipt } from './contract.js';
import { pspSettings } from './psp.settings.js';

interface Waiting {
  order: PaymentOrder;
  amount: Decimal;
  requestId?: string;
  resolve: (receipt: PaymentReceipt) => void;
  reject: (err: unknown) => void;
}

const MAX_PER_INSERT = 500;

@Injectable()
export class PspService {
  private readonly log = createLogger('psp');
  private readonly delayMs: number;
  private queue: Waiting[] = [];

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
    return new Promise((resolve, reject) => {
      this.queue.push({ order, amount, requestId: currentRequestId(), resolve, reject });
      if (this.queue.length === 1) setImmediate(() => void this.flush());
    });
  }

  /** Writes every order queued since the last flush in one statement and answers each caller. */
  private async flush(): Promise<void> {
    const batch = this.queue.splice(0, MAX_PER_INSERT);
    if (this.queue.length > 0) setImmediate(() => void this.flush());
    let inserted: Set<string>;
    try {
      const rows: Array<{ transaction_id: string }> = await this.db.query(
        `INSERT INTO processed_payments (transaction_id, user_id, amount, currency)
         SELECT * FROM unnest($1::uuid[], $2::int[], $3::numeric[], $4::text[])
         ON CONFLICT (transaction_id) DO NOTHING
         RETURNING transaction_id`,
        [
          batch.map((w) => w.order.id),
          batch.map((w) => w.order.user_id),
          batch.map((w) => w.amount.toFixed(2)),
          batch.map((w) => w.order.currency),
        ],
      );
      inserted = new Set(rows.map((r) => r.transaction_id));
    } catch (err) {
      for (const w of batch) w.reject(err);
      return;
    }
    for (const w of batch) {
      // The same id twice in one batch is paid for the first caller only.
      const paid = inserted.delete(w.order.id);
      if (w.requestId) requestContext.run({ requestId: w.requestId }, () => this.report(w, paid));
      else this.report(w, paid);
      w.resolve({ id: w.order.id, duplicate: !paid });
    }
  }

  private report({ order, amount }: Waiting, paid: boolean): void {
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
