// A payment request accepted by the API. Its outbox record (OutboxRecordEntity) is written in the same statement.
import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { TransactionStatus } from './contract.js';

export const TRANSACTIONS_TABLE = 'transactions';

@Entity({ name: TRANSACTIONS_TABLE })
@Index('UQ_transactions_user_idempotency_key', ['userId', 'idempotencyKey'], { unique: true })
export class TransactionEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  /** Taken from the verified token; users live in the auth module, so there is no foreign key. */
  @Column({ name: 'user_id', type: 'integer' })
  userId!: number;

  /** numeric: TypeORM hands it back as a string, which keeps it exact. */
  @Column({ type: 'numeric', precision: 14, scale: 2 })
  amount!: string;

  @Column({ type: 'char', length: 3 })
  currency!: string;

  @Column({ type: 'varchar', length: 16, default: 'pending' })
  status!: TransactionStatus;

  @Column({ name: 'failure_reason', type: 'text', nullable: true })
  failureReason!: string | null;

  @Column({ name: 'idempotency_key', type: 'varchar', length: 255, nullable: true })
  idempotencyKey!: string | null;

  /** sha256 of the canonical request (amount to 2 places, currency): a reused key must carry the same one. */
  @Column({ name: 'request_hash', type: 'char', length: 64 })
  requestHash!: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt!: Date | null;
}
