// Shared benchmark plumbing: spawn role processes, HTTP load through wrk, and the result row type.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One measured row: ours against the bare baseline and, where one exists, the stock NestJS peer of the same run. */
export interface BenchRow {
  name: string;
  ours: number;
  baseline: number;
  unit: string;
  ratio: number;
  target: string;
  peer?: PeerResult;
}

export interface PeerResult {
  /** What the stock peer is, e.g. "Nest + ValidationPipe". */
  name: string;
  value: number;
  /** ours / peer for throughputs (peer / ours for times: always "how many times better"). */
  ratio: number;
  target: string;
}

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const MAIN = resolve(ROOT, 'dist/main.js');

/**
 * `npm run bench -- --profile <suite>` sets BENCH_PROFILE_DIR: every measured process then runs with --cpu-prof and
 * writes `<label>-<n>.cpuprofile` there when it exits (a graceful stop, so the profile is complete).
 */
let profiled = 0;
export function profileArgs(label: string): string[] {
  const dir = process.env.BENCH_PROFILE_DIR;
  if (!dir) return [];
  const name = `${label.replace(/[^A-Za-z0-9_.-]+/g, '_')}-${++profiled}.cpuprofile`;
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}`];
}

/** profileArgs() for a bare script, which would otherwise die on SIGTERM without writing its profile. */
export function scriptProfileArgs(label: string): string[] {
  const args = profileArgs(label);
  return args.length ? [...args, '--import', resolve(ROOT, 'bench/profile-exit.mjs')] : [];
}

export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
    s.on('error', fail);
  });
}

export interface Spawned {
  child: ChildProcess;
  httpPort: number;
  tcpPort: number;
  url: string;
  stop(): Promise<void>;
  rssMb(): number;
}

/** Starts `node dist/main.js` with ROLE and env; resolves once /health/ready answers 200. */
export async function startRole(
  role: string,
  env: Record<string, string> = {},
): Promise<Spawned & { readyMs: number }> {
  const httpPort = await freePort();
  const tcpPort = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [...profileArgs(`role-${role}`), MAIN], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
      ROLE: role,
      HTTP_PORT: String(httpPort),
      TCP_PORT: String(tcpPort),
      HTTP_HOST: '127.0.0.1',
      TCP_HOST: '127.0.0.1',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${httpPort}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${role} exited with ${child.exitCode}`);
    const ok = await fetch(`${url}/health/ready`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    await sleep(20);
  }
  return { ...handle(child, httpPort, tcpPort, url), readyMs: performance.now() - started };
}

const STOCK_NEST_APP = resolve(ROOT, 'dist-bench/bench/baselines/nest-hello.js');

/** Spawns `node <args>` and times it to the first 2xx from 127.0.0.1:`port``path`; then stops it. */
async function timeToAnswer(
  args: string[],
  env: Record<string, string>,
  port: number,
  path: string,
): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}`);
      const ok = await fetch(`http://127.0.0.1:${port}${path}`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) return performance.now() - started;
      await sleep(10);
    }
  } finally {
    await handle(child, port, port, '').stop();
  }
}

/** The median of `values`. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Boot of a stock Nest + Fastify app with one route: spawn -> first answer. */
export async function stockNestBoot(): Promise<number> {
  const port = await freePort();
  return timeToAnswer([STOCK_NEST_APP], { PORT: String(port) }, port, '/');
}

/**
 * `runs` boots of ROLE=exchange (spawn -> first 200 from /health/ready, with the run's DATABASE_URL as every role
 * gets) and of the stock Nest app, taken in turn after one unmeasured boot of each; the median of each.
 */
export async function bootTimes(runs: number): Promise<{ ours: number; stock: number }> {
  const role = async () => {
    const [httpPort, tcpPort] = [await freePort(), await freePort()];
    return timeToAnswer(
      [...profileArgs('role-exchange-boot'), MAIN],
      {
        ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
        ROLE: 'exchange',
        HTTP_PORT: String(httpPort),
        TCP_PORT: String(tcpPort),
        HTTP_HOST: '127.0.0.1',
        TCP_HOST: '127.0.0.1',
      },
      httpPort,
      '/health/ready',
    );
  };
  await stockNestBoot();
  await role();
  const ours: number[] = [];
  const stock: number[] = [];
  for (let i = 0; i < runs; i++) {
    stock.push(await stockNestBoot());
    ours.push(await role());
  }
  return { ours: median(ours), stock: median(stock) };
}

/** Runs a plain Node script (a baseline server) in its own process; it prints its port on stdout. */
export async function startScript(file: string, env: Record<string, string> = {}): Promise<Spawned> {
  const label = file.replace(/^.*\//, '').replace(/\.[cm]?js$/, '');
  const child = spawn(process.execPath, [...scriptProfileArgs(label), file], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((done, fail) => {
    child.stdout!.once('data', (b: Buffer) => done(Number(b.toString().trim())));
    child.once('exit', (c) => fail(new Error(`${file} exited with ${c}`)));
  });
  return handle(child, port, port, `http://127.0.0.1:${port}`);
}

function handle(child: ChildProcess, httpPort: number, tcpPort: number, url: string): Spawned {
  return {
    child,
    httpPort,
    tcpPort,
    url,
    rssMb: () => rssMb(child.pid!),
    stop: () =>
      new Promise((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}

export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** What one HTTP load run measured: only 2xx/3xx answers count as throughput. */
export interface HttpLoadResult {
  rps: number;
  /** Of every answer (wrk keeps one latency histogram). */
  p99Ms: number;
  /** Answers with another status, and socket errors and timeouts. */
  errors: number;
}

// Appended to each generated wrk script: one JSON line from wrk's own summary, instead of parsing its text report.
const WRK_DONE = `
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK {"durationUs":%d,"requests":%d,"p99Us":%d,"badStatus":%d,"socketErrors":%d}\\n',
    summary.duration, summary.requests, latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
`;

let scriptDir: string | undefined;
function wrkScript(opts: { method: string; body?: string; headers?: Record<string, string> }): string {
  scriptDir ??= mkdtempSync(join(tmpdir(), 'polyrole-bench-wrk-'));
  const id = createHash('sha256').update(JSON.stringify(opts)).digest('hex').slice(0, 12);
  const file = join(scriptDir, `${id}.lua`);
  const headers = { ...(opts.body ? { 'content-type': 'application/json' } : {}), ...opts.headers };
  writeFileSync(
    file,
    `wrk.method = ${JSON.stringify(opts.method)}\n` +
      (opts.body ? `wrk.body = ${JSON.stringify(opts.body)}\n` : '') +
      Object.entries(headers)
        .map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}\n`)
        .join('') +
      WRK_DONE,
  );
  return file;
}

/** Removes the generated wrk scripts; bench/run.ts calls it when the run ends. */
export function cleanUpLoad(): void {
  if (scriptDir) rmSync(scriptDir, { recursive: true, force: true });
  scriptDir = undefined;
}

/**
 * Keep-alive HTTP/1.1 load from wrk (Debian's package, which bench/bench.mjs installs when missing): C on one
 * thread, it leaves more of the machine's two cores to the servers being compared than a Node client would.
 * `connections` connections each send a request, wait for the whole answer and repeat, for `seconds`.
 */
export async function httpLoad(opts: {
  port: number;
  method: 'GET' | 'POST';
  path: string;
  body?: string;
  connections: number;
  seconds: number;
  headers?: Record<string, string>;
}): Promise<HttpLoadResult> {
  const script = wrkScript(opts);
  const duration = `${Math.max(1, Math.round(opts.seconds))}s`;
  const url = `http://127.0.0.1:${opts.port}${opts.path}`;
  const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number | null }>(
    (done, fail) => {
      const child = spawn('wrk', ['-t1', `-c${opts.connections}`, `-d${duration}`, '-s', script, url], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.on('error', fail);
      child.on('close', (c) => done({ stdout: out, stderr: err, code: c }));
    },
  );
  const line = /^WRK (.*)$/m.exec(stdout)?.[1];
  if (code !== 0 || !line) throw new Error(`wrk failed (exit ${code}): ${stderr || stdout}`);
  const r = JSON.parse(line) as {
    durationUs: number;
    requests: number;
    p99Us: number;
    badStatus: number;
    socketErrors: number;
  };
  return {
    rps: (r.requests - r.badStatus) / (r.durationUs / 1e6),
    p99Ms: r.p99Us / 1000,
    errors: r.badStatus + r.socketErrors,
  };
}

export function row(
  name: string,
  ours: number,
  baseline: number,
  unit: string,
  target: string,
  peer?: Omit<PeerResult, 'ratio'> & { lowerIsBetter?: boolean },
): BenchRow {
  const r: BenchRow = { name, ours, baseline, unit, ratio: baseline ? ours / baseline : 0, target };
  if (peer) {
    const ratio = peer.lowerIsBetter ? (ours ? peer.value / ours : 0) : peer.value ? ours / peer.value : 0;
    r.peer = { name: peer.name, value: peer.value, ratio, target: peer.target };
  }
  return r;
}
