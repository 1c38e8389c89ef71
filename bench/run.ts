// Runs the benchmark suites (bench/bench.mjs checks the arguments and builds first) side by side with their
// baselines and prints the ratios. Everything it makes in the temp directory is removed when it ends.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../src/platform/database/embedded-postgres.js';
import { cleanUpLoad, ROOT, type BenchRow } from './lib.js';
import { formatShares, summarizeDir } from './profile.js';

const SUITES: Record<string, () => Promise<{ run(): Promise<BenchRow[]> }>> = {
  foundation: () => import('./exchange.bench.js'),
  echo: () => import('./echo.bench.js'),
  calculator: () => import('./calculator.bench.js'),
  payments: () => import('./transaction.bench.js'),
  master: () => import('./master.bench.js'),
  tracing: () => import('./tracing.bench.js'),
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  // bench/suites.json names the suites for bench.mjs's --help and argument check; both lists must agree.
  const listed = Object.keys(JSON.parse(readFileSync(join(ROOT, 'bench/suites.json'), 'utf8')));
  if (listed.join() !== Object.keys(SUITES).join())
    throw new Error(
      `bench/suites.json lists ${listed.join(', ')}; run.ts runs ${Object.keys(SUITES).join(', ')}`,
    );
  const unknown = args.filter((a) => a !== '--profile' && !listed.includes(a));
  if (unknown.length)
    throw new Error(`unknown suite or option: ${unknown.join(', ')} (suites: ${listed.join(', ')})`);
  // --profile: every measured process writes a CPU profile to bench-profiles/<suite>/ (git-ignored).
  const profile = args.includes('--profile');
  const only = args.filter((a) => a !== '--profile');
  const profiles: string[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'polyrole-bench-'));
  // As root, the embedded PostgreSQL runs as an unprivileged user who must enter it (mkdtemp makes it owner-only).
  chmodSync(scratch, 0o755);
  let stopDb: (() => Promise<void>) | undefined;
  const rows: Array<BenchRow & { suite: string }> = [];
  try {
    if (!process.env.DATABASE_URL) {
      // Its data and (as root) the copy of its binaries both live in the run's scratch directory.
      const pg = await startEmbeddedPostgres({
        dataDir: join(scratch, 'postgres'),
        cacheDir: join(scratch, 'postgres-cache'),
      });
      process.env.DATABASE_URL = pg.url;
      stopDb = pg.stop;
    }
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
    cleanUpLoad();
    rmSync(scratch, { recursive: true, force: true });
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
