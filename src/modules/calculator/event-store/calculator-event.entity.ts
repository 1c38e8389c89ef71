// The append-only event log table. Rows are only ever inserted (see PostgresEventStore); seq is the global order.
import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const CALCULATOR_EVENTS_TABLE = 'calculator_events';

@Entity({ name: CALCULATOR_EVENTS_TABLE })
export class CalculatorEventEntity {
  /** bigserial: TypeORM hands int8 back as a string, which keeps it exact. */
  @PrimaryGeneratedColumn('increment', { type: 'bigint' })
  seq!: string;

  /** Null only for rows written before the column existed. */
  @Index('calculator_events_event_id_key', { unique: true })
  @Column({ name: 'event_id', type: 'uuid', nullable: true })
  eventId!: string | null;

  @Column({ type: 'varchar', length: 64 })
  type!: string;

  @Index('calculator_events_request_id_idx')
  @Column({ name: 'request_id', type: 'varchar', length: 128 })
  requestId!: string;

  @Column({ type: 'jsonb' })
  payload!: Record<string, unknown>;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ type: 'varchar', length: 255 })
  instance!: string;
}
