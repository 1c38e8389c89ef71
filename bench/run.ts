// `npm run bench`: runs every benchmark side by side with its baseline and prints the ratios.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../src/platform/database/embedded-postgres.js';
import type { BenchRow } from './lib.js';

const SUITES: Record<string, () => Promise<{ run(): Promise<BenchRow[]> }>> = {
  foundation: () => import('./exchange.bench.js'),
  echo: () => import('./echo.bench.js'),
  calculator: () => import('./calculator.bench.js'),
  payments: () => import('./transaction.bench.js'),
  master: () => import('./master.bench.js'),
};

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  let stopDb: (() => Promise<void>) | undefined;
  if (!process.env.DATABASE_URL) {
    const pg = await startEmbeddedPostgres({
      dataDir: join(mkdtempSync(join(tmpdir(), 'polyrole-bench-')), 'postgres'),
    });
    process.env.DATABASE_URL = pg.url;
    stopDb = pg.stop;
  }
  const rows: Array<BenchRow & { suite: string }> = [];
  try {
    for (const [suite, load] of Object.entries(SUITES)) {
      if (only.length && !only.includes(suite)) continue;
      process.stdout.write(`running ${suite} ...\n`);
      const { run } = await load();
      for (const r of await run()) rows.push({ suite, ...r });
    }
  } finally {
    await stopDb?.();
  }
  const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(2));
  process.stdout.write(
    '\n| suite | benchmark | ours | baseline | unit | vs baseline | target | stock Nest peer | vs peer | target |\n' +
      '|---|---|---|---|---|---|---|---|---|---|\n',
  );
  for (const r of rows) {
    const peer = r.peer
      ? `${r.peer.name}: ${fmt(r.peer.value)} | ${r.peer.ratio.toFixed(2)}x | ${r.peer.target}`
      : '— | — | —';
    process.stdout.write(
      `| ${r.suite} | ${r.name} | ${fmt(r.ours)} | ${fmt(r.baseline)} | ${r.unit} | ${r.ratio.toFixed(2)}x | ${r.target} | ${peer} |\n`,
    );
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
