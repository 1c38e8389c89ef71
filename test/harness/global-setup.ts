// Jest global setup: one PostgreSQL for the whole run (DATABASE_URL if set, else an embedded server).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/platform/database/embedded-postgres.js';
import { URL_ENV } from './database.js';

declare global {
  var __polyrolePg: EmbeddedPostgres | undefined;
}

export default async function globalSetup(): Promise<void> {
  if (process.env.DATABASE_URL) return;
  const dataDir = join(mkdtempSync(join(tmpdir(), 'polyrole-e2e-')), 'postgres');
  const pg = await startEmbeddedPostgres({ dataDir });
  globalThis.__polyrolePg = pg;
  process.env[URL_ENV] = pg.url;
}
