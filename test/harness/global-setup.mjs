// Jest global setup: a temporary directory of the run's own (TMPDIR for the suites and every process they start,
// so the teardown can tell what the run left behind), and one PostgreSQL for the whole run: DATABASE_URL if set,
// else the platform's embedded server (from the compiled build, which `npm test` makes first). Suites create a
// database each on it.
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../dist/platform/database/embedded-postgres.js';

export default async function globalSetup() {
  const runTmp = mkdtempSync(join(tmpdir(), 'polyrole-test-run-'));
  // Searchable by the unprivileged user the embedded PostgreSQL runs as under root; what the suites make inside
  // is their own (mkdtemp makes folders only their owner can enter).
  chmodSync(runTmp, 0o755);
  globalThis.__polyroleRun = { tmp: runTmp, systemTmp: process.env.TMPDIR };
  process.env.TMPDIR = runTmp;
  process.env.POLYROLE_TEST_RUN_TMP = runTmp;
  if (process.env.DATABASE_URL) return;
  const pg = await startEmbeddedPostgres({ dataDir: join(runTmp, 'run-postgres', 'data') });
  globalThis.__polyrolePg = pg;
  process.env.POLYROLE_TEST_SERVER_URL = pg.url;
}
