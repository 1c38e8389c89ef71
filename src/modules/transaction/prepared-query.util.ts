// The module's hot statements as named prepared statements: PostgreSQL parses and plans each once per connection
// instead of on every call (for the insert, about half of the server's cost). TypeORM's query() cannot name a
// statement, so these run on the pg connection a TypeORM query runner checks out of its pool (QueryRunner.connect()).
import type { PoolClient, QueryResultRow } from 'pg';
import type { DataSource } from 'typeorm';

export async function preparedQuery<R extends QueryResultRow>(
  db: DataSource,
  name: string,
  text: string,
  values: unknown[],
): Promise<R[]> {
  const runner = db.createQueryRunner();
  try {
    const client = (await runner.connect()) as PoolClient;
    return (await client.query<R>({ name, text, values })).rows;
  } finally {
    await runner.release();
  }
}
