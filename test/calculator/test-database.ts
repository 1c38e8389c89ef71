// A throw-away schema on the run's test PostgreSQL (see test/harness/database.ts).
// Each caller gets its own throw-away schema, so suites (and other helpers) sharing the database never collide.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { serverUrl } from '../harness/database.js';

export const TEST_DATABASE_URL = serverUrl();

export interface TestSchema {
  dataSource: DataSource;
  schema: string;
  drop(): Promise<void>;
}

/** A DataSource on a fresh schema with the given entities and migrations already run. */
export async function openTestSchema(
  options: Pick<DataSourceOptions, 'entities' | 'migrations'>,
): Promise<TestSchema> {
  const schema = `test_${randomUUID().replaceAll('-', '')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA "${schema}"`);
  } finally {
    await admin.end();
  }
  const dataSource = new DataSource({
    type: 'postgres',
    url: TEST_DATABASE_URL,
    schema,
    extra: { options: `-c search_path=${schema}` },
    entities: options.entities,
    migrations: options.migrations,
  });
  await dataSource.initialize();
  await dataSource.runMigrations();
  return {
    dataSource,
    schema,
    async drop() {
      await dataSource.query(`DROP SCHEMA "${schema}" CASCADE`);
      await dataSource.destroy();
    },
  };
}
