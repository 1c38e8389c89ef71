// Jest global teardown: stops the run's PostgreSQL, then fails the run if a suite left anything in the run's
// temporary directory (naming each entry), and removes that directory either way. It also prints the suites
// that could not run here, with their reasons (see skips.ts), and fails under CI=true when there are any.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** What the run itself puts in its temporary directory: the embedded server's data and binaries. */
const OWN = new Set(['run-postgres', 'polyrole-postgres', 'polyrole-skips.jsonl']);

function readSkips(dir) {
  const file = join(dir, 'polyrole-skips.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

export default async function globalTeardown() {
  await globalThis.__polyrolePg?.stop();
  const run = globalThis.__polyroleRun;
  if (!run) return;
  const skips = readSkips(run.tmp);
  const left = readdirSync(run.tmp).filter((name) => !OWN.has(name));
  rmSync(run.tmp, { recursive: true, force: true });
  if (run.systemTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = run.systemTmp;

  const problems = [];
  if (left.length > 0)
    problems.push(
      `the suites left ${left.length} entries in the temporary directory (removed now): ${left.map((n) => join(run.tmp, n)).join(', ')}`,
    );
  if (skips.length > 0) {
    process.stdout.write(
      `\nSkipped (not run, not counted as passed):\n${skips.map((s) => `  skipped: ${s.suite} — ${s.reason}\n`).join('')}`,
    );
    if (process.env.CI === 'true')
      problems.push(
        `CI=true runs every suite, but ${skips.length} could not run: ${skips.map((s) => s.suite).join(', ')}`,
      );
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
}
