// Gives every event its own id, so a batch retried after an ambiguous failure (the INSERT committed but the reply
// was lost) is stored once: the store inserts with ON CONFLICT DO NOTHING on this key.
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddCalculatorEventId1763900000000 implements MigrationInterface {
  name = 'AddCalculatorEventId1763900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // A nullable column without a default touches no row, so the append-only trigger stays quiet.
    await queryRunner.query(`ALTER TABLE "calculator_events" ADD "event_id" uuid`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "calculator_events_event_id_key" ON "calculator_events" ("event_id")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "calculator_events_event_id_key"`);
    await queryRunner.query(`ALTER TABLE "calculator_events" DROP COLUMN "event_id"`);
  }
}
