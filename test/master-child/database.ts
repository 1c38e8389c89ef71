// A schema of its own on the run's test PostgreSQL (test/harness/database.ts) for each master-child spec.
import { DataSource } from 'typeorm';
import { createSchema } from '../harness/database.js';
import { PROGRESS_ENTITIES } from '../../src/modules/master-child/progress/progress.entity.js';
import { PROGRESS_MIGRATIONS } from '../../src/modules/master-child/progress/migrations/1763794000000-master-progress.migration.js';

export interface TestDatabase {
  /** A new connection pool on the same schema (a restarted master sees exactly what the last one left). */
  connect(): Promise<DataSource>;
  /** Closes every pool opened here and drops the schema. */
  dispose(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const { url, schema, drop } = await createSchema('mc_spec');
  const opened: DataSource[] = [];
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
      await drop();
    },
  };
}
