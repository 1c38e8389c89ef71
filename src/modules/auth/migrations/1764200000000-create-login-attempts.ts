// The login attempt counters every auth replica shares, in the layout rate-limiter-flexible's PostgreSQL store
// reads and writes (key = "<address|username>:<value>", points, expire in epoch ms).
import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateLoginAttempts1764200000000 implements MigrationInterface {
  name = 'CreateLoginAttempts1764200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "auth_login_attempts" (
        "key" character varying(255) NOT NULL,
        "points" integer NOT NULL DEFAULT 0,
        "expire" bigint,
        CONSTRAINT "PK_auth_login_attempts_key" PRIMARY KEY ("key")
      )`);
    // The store deletes expired rows by this column every hour.
    await queryRunner.query(
      `CREATE INDEX "IDX_auth_login_attempts_expire" ON "auth_login_attempts" ("expire")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "auth_login_attempts"`);
  }
}
