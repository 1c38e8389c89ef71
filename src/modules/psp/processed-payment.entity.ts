// One executed payment. The transaction id is the primary key: that is what makes a payment happen once.
import { Column, Entity, PrimaryColumn } from 'typeorm';

export const PROCESSED_PAYMENTS_TABLE = 'processed_payments';

@Entity({ name: PROCESSED_PAYMENTS_TABLE })
export class ProcessedPaymentEntity {
  @PrimaryColumn({ name: 'transaction_id', type: 'uuid' })
  transactionId!: string;

  @Column({ name: 'user_id', type: 'integer' })
  userId!: number;

  /** numeric: TypeORM hands it back as a string, which keeps it exact. */
  @Column({ type: 'numeric', precision: 14, scale: 2 })
  amount!: string;

  @Column({ type: 'char', length: 3 })
  currency!: string;

  @Column({ name: 'processed_at', type: 'timestamptz', default: () => 'now()' })
  processedAt!: Date;
}
