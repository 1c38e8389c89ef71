// `npm run bench`: runs every benchmark side by side with its baseline and prints the ratios.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../src/platform/database/embedded-postgres.js';
import { ROOT, type BenchRow } from './lib.js';
import { formatShares, summarizeDir } from './profile.js';

const SUITES: Record<string, () => Promise<{ run(): Promise<BenchRow[]> }>> = {
  foundation: () => import('./exchange.bench.js'),
  echo: () => import('./echo.bench.js'),
  calculator: () => import('./calculator.bench.js'),
  payments: () => import('./transaction.bench.js'),
  master: () => import('./master.bench.js'),
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  // --profile: every measured process writes a CPU profile to bench-profiles/<suite>/ (git-ignored).
  const profile = args.includes('--profile');
  const only = args.filter((a) => a !== '--profile');
  const profiles: string[] = [];
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
      if (profile) {
        const dir = join(ROOT, 'bench-profiles', suite);
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir, { recursive: true });
        process.env.BENCH_PROFILE_DIR = dir;
        profiles.push(dir);
      }
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
  for (const dir of profiles) {
    process.stdout.write(`\nCPU profiles in ${dir} (share of each process's busy time):`);
    process.stdout.write(formatShares(summarizeDir(dir)));
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
