// The PostgreSQL the e2e suites use: DATABASE_URL when set, else the embedded server started by global setup.
// Each topology gets a database of its own, so suites never see each other's rows.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';

export const URL_ENV = 'POLYROLE_TEST_SERVER_URL';

export function serverUrl(): string {
  const url = process.env.DATABASE_URL || process.env[URL_ENV];
  if (!url) throw new Error('no test database: global setup did not run and DATABASE_URL is unset');
  return url;
}

/** Creates a fresh database on the test server and returns its URL. */
export async function freshDatabase(prefix = 'e2e'): Promise<string> {
  const base = new URL(serverUrl());
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: base.toString() });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  base.pathname = `/${name}`;
  return base.toString();
}

/** Runs one query against a database URL with a short-lived client. */
export async function query<T = Record<string, unknown>>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** A throw-away schema on the test server, for unit specs that share one database. */
export async function createSchema(
  prefix = 'spec',
): Promise<{ url: string; schema: string; drop(): Promise<void> }> {
  const url = serverUrl();
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  await query(url, `CREATE SCHEMA "${schema}"`);
  return { url, schema, drop: () => query(url, `DROP SCHEMA "${schema}" CASCADE`).then(() => undefined) };
}

export interface TestSchema {
  dataSource: DataSource;
  schema: string;
  drop(): Promise<void>;
}

/** A DataSource on a fresh schema with the given entities and migrations already run. */
export async function openTestSchema(
  options: Pick<DataSourceOptions, 'entities' | 'migrations'>,
): Promise<TestSchema> {
  const { url, schema, drop } = await createSchema('test');
  const dataSource = new DataSource({
    type: 'postgres',
    url,
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
      await dataSource.destroy();
      await drop();
    },
  };
}

export interface ReopenableSchema {
  /** A new connection pool on the same schema (a restarted process sees exactly what the last one left). */
  connect(): Promise<DataSource>;
  /** Closes every pool opened here and drops the schema. */
  dispose(): Promise<void>;
}

/** A throw-away schema that specs may open several pools on, migrated by the first one. */
export async function createReopenableSchema(
  options: Pick<DataSourceOptions, 'entities' | 'migrations'>,
  prefix = 'spec',
): Promise<ReopenableSchema> {
  const { url, schema, drop } = await createSchema(prefix);
  const opened: DataSource[] = [];
  let migrated = false;

  return {
    async connect() {
      const ds = new DataSource({
        type: 'postgres',
        url,
        entities: options.entities,
        migrations: options.migrations,
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
