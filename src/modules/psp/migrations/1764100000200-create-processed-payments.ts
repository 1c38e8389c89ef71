// Creates the psp's ledger of executed payments (matches ProcessedPaymentEntity).
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateProcessedPayments1764100000200 implements MigrationInterface {
  name = 'CreateProcessedPayments1764100000200';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "processed_payments" (
        "transaction_id" uuid NOT NULL,
        "user_id" integer NOT NULL,
        "amount" numeric(14,2) NOT NULL,
        "currency" character(3) NOT NULL,
        "processed_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "PK_processed_payments_transaction_id" PRIMARY KEY ("transaction_id")
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "processed_payments"`);
  }
}
