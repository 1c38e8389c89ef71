// The role's PostgreSQL connection (TypeORM), built from the entities and migrations of the booted parts.
// Migrations run at boot under an advisory lock, so replicas starting together do not race.
import { Injectable } from '@nestjs/common';
import type { DataSource, DataSourceOptions } from 'typeorm';

const MIGRATION_LOCK = 7_277_001;

@Injectable()
export class Database {
  constructor(readonly dataSource: DataSource | undefined) {}

  get enabled(): boolean {
    return this.dataSource !== undefined;
  }

  /** The DataSource; throws for a role that owns no tables. */
  get source(): DataSource {
    if (!this.dataSource) throw new Error('this role has no database');
    return this.dataSource;
  }

  async ping(): Promise<void> {
    await this.source.query('SELECT 1');
  }
}

/** Loads typeorm on demand, so roles without tables never pay for it at boot. */
export async function createDataSource(opts: {
  url: string;
  entities: NonNullable<DataSourceOptions['entities']>;
  migrations: NonNullable<DataSourceOptions['migrations']>;
  poolSize?: number;
  applicationName: string;
}): Promise<DataSource> {
  const { DataSource } = await import('typeorm');
  const { TracedPgClient } = await import('./traced-pg-client.js');
  return new DataSource({
    type: 'postgres',
    url: opts.url,
    entities: opts.entities,
    migrations: opts.migrations,
    synchronize: false,
    migrationsRun: false,
    logging: false,
    extra: {
      // Each SQL statement of a traced request gets its span (pg-pool's option for the client class it makes).
      Client: TracedPgClient,
      max: opts.poolSize ?? 10,
      application_name: opts.applicationName,
      connectionTimeoutMillis: 5000,
    },
  });
}

/** Connects and runs this role's pending migrations under an advisory lock. */
export async function openDatabase(ds: DataSource): Promise<string[]> {
  await ds.initialize();
  const runner = ds.createQueryRunner();
  try {
    await runner.connect();
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const ran = await ds.runMigrations({ transaction: 'each' });
    return ran.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
  }
}
