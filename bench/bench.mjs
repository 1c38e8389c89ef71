// `npm run bench [-- options] [suite...]`: checks the arguments and wrk before anything is built, then builds and runs
// bench/run.ts. Plain JavaScript so that --help and a misspelt suite answer at once.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const suites = JSON.parse(readFileSync(join(root, 'bench/suites.json'), 'utf8'));
const names = Object.keys(suites);
const OPTIONS = {
  '--profile':
    'every measured process writes a CPU profile to bench-profiles/<suite>/ (summarised at the end)',
  '--help': 'this text',
};
/** The suites whose HTTP rows drive load through wrk. */
const HTTP_SUITES = ['foundation', 'payments', 'tracing'];

function usage() {
  const width = Math.max(...names.map((n) => n.length), ...Object.keys(OPTIONS).map((o) => o.length));
  return [
    'usage: npm run bench [-- [--profile] [suite ...]]',
    '',
    'Runs each benchmark side by side with its baseline (and its stock Nest peer) in the same run and prints the',
    'ratios. With no suite named, every suite runs. BENCH_SECONDS (default 4) sets the measured seconds per row.',
    '',
    'suites:',
    ...names.map((n) => `  ${n.padEnd(width)}  ${suites[n]}`),
    '',
    'options:',
    ...Object.entries(OPTIONS).map(([o, text]) => `  ${o.padEnd(width)}  ${text}`),
    '',
  ].join('\n');
}

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  process.stdout.write(usage());
  process.exit(0);
}
const unknownOptions = args.filter((a) => a.startsWith('-') && !(a in OPTIONS));
const unknownSuites = args.filter((a) => !a.startsWith('-') && !names.includes(a));
if (unknownOptions.length || unknownSuites.length) {
  const problems = [
    ...unknownOptions.map((o) => `unknown option ${o} (options: ${Object.keys(OPTIONS).join(', ')})`),
    ...unknownSuites.map((s) => `unknown suite "${s}" (suites: ${names.join(', ')})`),
  ];
  process.stderr.write(`${problems.join('\n')}\n\n${usage()}`);
  process.exit(2);
}

const chosen = args.filter((a) => !a.startsWith('-'));
const needsWrk = (chosen.length ? chosen : names).some((s) => HTTP_SUITES.includes(s));
const hasWrk = () => spawnSync('wrk', ['--version']).error === undefined;
if (needsWrk && !hasWrk()) {
  if (process.getuid?.() === 0) {
    process.stdout.write('installing wrk (the HTTP load generator) with apt-get ...\n');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'wrk'], {
      stdio: 'inherit',
      env,
    });
  }
  if (!hasWrk()) {
    process.stderr.write(
      'the HTTP rows need wrk, the load generator: install it (Debian/Ubuntu: sudo apt-get install wrk; ' +
        'macOS: brew install wrk), or run as root to have it installed\n',
    );
    process.exit(1);
  }
}

const step = (command, commandArgs) => {
  const r = spawnSync(command, commandArgs, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
step('npm', ['run', 'build', '--silent']);
step(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'bench/tsconfig.json']);
step(process.execPath, [join(root, 'dist-bench/bench/run.js'), ...args]);
