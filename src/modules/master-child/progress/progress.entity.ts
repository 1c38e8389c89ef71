// The master's progress tables: the bitmap over the master range in fixed-size chunks, a log of the numbers
// seen since the chunks were last written, one header row with the range and the running counters, and one row
// per accepted report (the idempotency record).
// The store writes them with hand-written SQL (one statement per group commit); the entities document the schema
// and let TypeORM know the tables exist.
import { Column, CreateDateColumn, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'master_progress_chunk' })
export class ProgressChunkEntity {
  @PrimaryColumn({ name: 'chunk_no', type: 'int' })
  chunkNo!: number;

  /** Bit i of byte j stands for number `min + chunkNo * chunkBits + j * 8 + i` (least significant bit first). */
  @Column({ name: 'bits', type: 'bytea' })
  bits!: Buffer;
}

/** Numbers first seen since the last checkpoint, as little-endian uint32 offsets from the range's min. */
@Entity({ name: 'master_progress_log' })
export class ProgressLogEntity {
  @PrimaryGeneratedColumn({ name: 'id', type: 'bigint' })
  id!: string;

  @Column({ name: 'offsets', type: 'bytea' })
  offsets!: Buffer;
}

@Entity({ name: 'master_progress_state' })
export class ProgressStateEntity {
  /** Always 1: the table holds one row. */
  @PrimaryColumn({ name: 'id', type: 'smallint' })
  id!: number;

  @Column({ name: 'range_min', type: 'bigint' })
  rangeMin!: string;

  @Column({ name: 'range_max', type: 'bigint' })
  rangeMax!: string;

  @Column({ name: 'chunk_bytes', type: 'int' })
  chunkBytes!: number;

  @Column({ name: 'received', type: 'bigint', default: 0 })
  received!: string;

  @Column({ name: 'duplicates', type: 'bigint', default: 0 })
  duplicates!: string;

  @Column({ name: 'rejected', type: 'bigint', default: 0 })
  rejected!: string;

  /** The master instance allowed to write; a newer master that loads the progress takes it over. */
  @Column({ name: 'owner', type: 'text', nullable: true })
  owner!: string | null;
}

@Entity({ name: 'master_report' })
export class MasterReportEntity {
  @PrimaryColumn({ name: 'child_id', type: 'text' })
  childId!: string;

  @PrimaryColumn({ name: 'seq', type: 'int' })
  seq!: number;

  @Column({ name: 'received', type: 'int' })
  received!: number;

  @Column({ name: 'unique_numbers', type: 'int' })
  unique!: number;

  @Column({ name: 'duplicates', type: 'int' })
  duplicates!: number;

  @Column({ name: 'rejected', type: 'int' })
  rejected!: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

export const PROGRESS_ENTITIES = [
  ProgressChunkEntity,
  ProgressLogEntity,
  ProgressStateEntity,
  MasterReportEntity,
];
