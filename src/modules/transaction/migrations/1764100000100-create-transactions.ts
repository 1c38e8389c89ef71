// Creates the transactions table and its outbox (matches TransactionEntity and OutboxRecordEntity).
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateTransactions1764100000100 implements MigrationInterface {
  name = 'CreateTransactions1764100000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "transactions" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "user_id" integer NOT NULL,
        "amount" numeric(14,2) NOT NULL,
        "currency" character(3) NOT NULL,
        "status" character varying(16) NOT NULL DEFAULT 'pending',
        "failure_reason" text,
        "idempotency_key" character varying(255),
        "request_hash" character(64) NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "completed_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "PK_transactions_id" PRIMARY KEY ("id"),
        CONSTRAINT "CHK_transactions_amount" CHECK ("amount" > 0),
        CONSTRAINT "CHK_transactions_status" CHECK ("status" IN ('pending', 'completed', 'failed'))
      )`);
    // NULL keys never collide, so requests without Idempotency-Key are unconstrained.
    await queryRunner.query(`
      CREATE UNIQUE INDEX "UQ_transactions_user_idempotency_key"
      ON "transactions" ("user_id", "idempotency_key")`);
    // Kept lean, because it is written with every transaction: the order's fields are read from the
    // transaction when the record is claimed; no secondary index (claims walk the primary key in order) and no
    // foreign key (both rows are written by one statement and the record is deleted when it settles).
    await queryRunner.query(`
      CREATE TABLE "transaction_outbox" (
        "id" BIGSERIAL NOT NULL,
        "transaction_id" uuid NOT NULL,
        "request_id" character varying(128),
        "attempts" integer NOT NULL DEFAULT 0,
        "next_attempt_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "claimed_until" TIMESTAMP WITH TIME ZONE,
        "last_error" text,
        CONSTRAINT "PK_transaction_outbox_id" PRIMARY KEY ("id")
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "transaction_outbox"`);
    await queryRunner.query(`DROP TABLE "transactions"`);
  }
}
