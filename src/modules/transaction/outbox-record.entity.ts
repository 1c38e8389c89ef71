// A transaction's psp.process order waiting to be delivered; the order's fields are the transaction's. Deleted
// once the psp acknowledges it (or refuses it for good).
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export const OUTBOX_TABLE = 'transaction_outbox';

@Entity({ name: OUTBOX_TABLE })
export class OutboxRecordEntity {
  /** bigserial: TypeORM hands int8 back as a string, which keeps it exact. */
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  id!: string;

  @Column({ name: 'transaction_id', type: 'uuid' })
  transactionId!: string;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt!: Date;

  /** Set while a dispatcher holds the record; a claim past this time is free to be taken again. */
  @Column({ name: 'claimed_until', type: 'timestamptz', nullable: true })
  claimedUntil!: Date | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  /** The request that created the transaction, so its delivery logs carry the same request id. */
  @Column({ name: 'request_id', type: 'varchar', length: 128, nullable: true })
  requestId!: string | null;

  /** The W3C traceparent of that request: the delivery's span joins its trace. */
  @Column({ type: 'varchar', length: 256, nullable: true })
  traceparent!: string | null;
}
