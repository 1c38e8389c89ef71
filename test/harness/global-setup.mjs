// Jest global setup: one PostgreSQL for the whole run: DATABASE_URL if set, else the platform's embedded server
// (from the compiled build, which `npm test` makes first). Suites create a database each on it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../dist/platform/database/embedded-postgres.js';

export default async function globalSetup() {
  if (process.env.DATABASE_URL) return;
  const dataDir = join(mkdtempSync(join(tmpdir(), 'polyrole-e2e-')), 'postgres');
  const pg = await startEmbeddedPostgres({ dataDir });
  globalThis.__polyrolePg = pg;
  process.env.POLYROLE_TEST_SERVER_URL = pg.url;
}
