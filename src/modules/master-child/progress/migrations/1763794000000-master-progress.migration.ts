// Creates the master's progress tables. Chunks are stored PLAIN (no TOAST, no compression: random bits do not
// compress) with room on each page so a checkpoint's rewrites stay HOT updates; log entries go out of line
// uncompressed for the same reason.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class MasterProgress1763794000000 implements MigrationInterface {
  name = 'MasterProgress1763794000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE master_progress_chunk (
      chunk_no int PRIMARY KEY CHECK (chunk_no >= 0),
      bits bytea NOT NULL
    ) WITH (fillfactor = 50)`);
    await q.query(`ALTER TABLE master_progress_chunk ALTER COLUMN bits SET STORAGE PLAIN`);
    await q.query(`CREATE TABLE master_progress_log (
      id bigserial PRIMARY KEY,
      offsets bytea NOT NULL
    )`);
    await q.query(`ALTER TABLE master_progress_log ALTER COLUMN offsets SET STORAGE EXTERNAL`);
    await q.query(`CREATE TABLE master_progress_state (
      id smallint PRIMARY KEY CHECK (id = 1),
      range_min bigint NOT NULL,
      range_max bigint NOT NULL CHECK (range_max > range_min),
      chunk_bytes int NOT NULL CHECK (chunk_bytes > 0),
      received bigint NOT NULL DEFAULT 0,
      duplicates bigint NOT NULL DEFAULT 0,
      rejected bigint NOT NULL DEFAULT 0,
      owner text
    )`);
    await q.query(`CREATE TABLE master_report (
      child_id text NOT NULL,
      seq int NOT NULL,
      received int NOT NULL,
      unique_numbers int NOT NULL,
      duplicates int NOT NULL,
      rejected int NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (child_id, seq)
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE master_report`);
    await q.query(`DROP TABLE master_progress_state`);
    await q.query(`DROP TABLE master_progress_log`);
    await q.query(`DROP TABLE master_progress_chunk`);
  }
}

export const PROGRESS_MIGRATIONS = [MasterProgress1763794000000];
