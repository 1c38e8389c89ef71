// Creates the calculator's append-only event log (matches CalculatorEventEntity).
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateCalculatorEvents1763800000000 implements MigrationInterface {
  name = 'CreateCalculatorEvents1763800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "calculator_events" (
        "seq" BIGSERIAL NOT NULL,
        "type" character varying(64) NOT NULL,
        "request_id" character varying(128) NOT NULL,
        "payload" jsonb NOT NULL,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "instance" character varying(255) NOT NULL,
        CONSTRAINT "PK_calculator_events_seq" PRIMARY KEY ("seq")
      )`);
    await queryRunner.query(
      `CREATE INDEX "calculator_events_request_id_idx" ON "calculator_events" ("request_id")`,
    );
    // Append-only is enforced by the database, not just by convention.
    await queryRunner.query(`
      CREATE FUNCTION "calculator_events_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'calculator_events is append-only';
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER "calculator_events_append_only" BEFORE UPDATE OR DELETE ON "calculator_events"
      FOR EACH ROW EXECUTE FUNCTION "calculator_events_append_only"()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "calculator_events"`);
    await queryRunner.query(`DROP FUNCTION "calculator_events_append_only"()`);
  }
}
