// A PostgreSQL for the master-child specs until the shared test harness provides one: DATABASE_URL if set, else
// the local default. Each call gets its own schema, so specs never see each other's tables.
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { PROGRESS_ENTITIES } from '../../src/modules/master-child/progress/progress.entity.js';
import { PROGRESS_MIGRATIONS } from '../../src/modules/master-child/progress/migrations/1763794000000-master-progress.migration.js';

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  /** A new connection pool on the same schema (a restarted master sees exactly what the last one left). */
  connect(): Promise<DataSource>;
  /** Closes every pool opened here and drops the schema. */
  dispose(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const url = process.env.DATABASE_URL || DEFAULT_URL;
  const schema = `mc_spec_${randomBytes(6).toString('hex')}`;
  const opened: DataSource[] = [];
  const admin = new DataSource({ type: 'postgres', url });
  await admin.initialize();
  await admin.query(`CREATE SCHEMA ${schema}`);
  let migrated = false;

  return {
    async connect() {
      const ds = new DataSource({
        type: 'postgres',
        url,
        entities: PROGRESS_ENTITIES,
        migrations: PROGRESS_MIGRATIONS,
        extra: { options: `-c search_path=${schema}`, max: 4 },
      });
      await ds.initialize();
      opened.push(ds);
      if (!migrated) {
        await ds.runMigrations();
        migrated = true;
      }
      return ds;
    },
    async dispose() {
      for (const ds of opened) if (ds.isInitialized) await ds.destroy();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.destroy();
    },
  };
}
