// The module's hot statements as named prepared statements: PostgreSQL parses and plans each once per connection
// instead of on every call (for the insert, about half of the server's cost). TypeORM's query() cannot name a
// statement, so these go to the pg pool under it.
import type { Pool, QueryResultRow } from 'pg';
import type { DataSource } from 'typeorm';

export async function preparedQuery<R extends QueryResultRow>(
  db: DataSource,
  name: string,
  text: string,
  values: unknown[],
): Promise<R[]> {
  const pool = (db.driver as unknown as { master: Pool }).master;
  return (await pool.query<R>({ name, text, values })).rows;
}
