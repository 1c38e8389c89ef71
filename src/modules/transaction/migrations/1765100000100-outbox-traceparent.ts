// The outbox record keeps the W3C traceparent of the request that created it, so its delivery to the psp joins
// that request's trace (matches OutboxRecordEntity.traceparent).
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class OutboxTraceparent1765100000100 implements MigrationInterface {
  name = 'OutboxTraceparent1765100000100';

  async up(queryRunner: QueryRunner): Promise<void> {
    // A version-00 traceparent is 55 characters; later versions may be longer, so the column is not that tight.
    await queryRunner.query(
      `ALTER TABLE "transaction_outbox" ADD COLUMN "traceparent" character varying(256)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "transaction_outbox" DROP COLUMN "traceparent"`);
  }
}
