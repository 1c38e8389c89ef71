// Shared benchmark plumbing: spawn role processes, a lean keep-alive HTTP load generator, and the result row type.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
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

/**
 * Keep-alive HTTP/1.1 load over raw sockets (cheap on the client side, so the server is what is measured):
 * `connections` sockets each send one request, wait for the full response, and repeat for `seconds`.
 */
export async function httpLoad(opts: {
  port: number;
  method: 'GET' | 'POST';
  path: string;
  body?: string;
  connections: number;
  seconds: number;
  headers?: (i: number) => Record<string, string>;
  /** Only answers with this status count as throughput and latency (default 200); any other is an error. */
  expectStatus?: number;
}): Promise<{ rps: number; p99Ms: number; errors: number; statuses: Record<number, number> }> {
  const expected = opts.expectStatus ?? 200;
  const deadline = performance.now() + opts.seconds * 1000;
  let done = 0;
  let errors = 0;
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  let seq = 0;
  const one = () =>
    new Promise<void>((finish) => {
      const sock = connect(opts.port, '127.0.0.1');
      sock.setNoDelay(true);
      let buf: Buffer = Buffer.alloc(0);
      let sentAt = 0;
      const send = () => {
        if (performance.now() > deadline) {
          sock.end();
          return finish();
        }
        const extra = opts.headers ? opts.headers(seq++) : {};
        const head = [
          `${opts.method} ${opts.path} HTTP/1.1`,
          'host: 127.0.0.1',
          ...Object.entries(extra).map(([k, v]) => `${k}: ${v}`),
          ...(opts.body
            ? ['content-type: application/json', `content-length: ${Buffer.byteLength(opts.body)}`]
            : []),
        ].join('\r\n');
        sentAt = performance.now();
        sock.write(`${head}\r\n\r\n${opts.body ?? ''}`);
      };
      sock.on('connect', send);
      sock.on('data', (chunk: Buffer) => {
        buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
        for (;;) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = buf.subarray(0, end).toString('latin1');
          const len = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
          if (buf.length < end + 4 + len) return;
          const status = Number(head.slice(9, 12));
          statuses[status] = (statuses[status] ?? 0) + 1;
          buf = buf.subarray(end + 4 + len);
          if (status === expected) {
            done++;
            latencies.push(performance.now() - sentAt);
          } else errors++;
          send();
        }
      });
      sock.on('error', () => {
        errors++;
        finish();
      });
    });
  const started = performance.now();
  await Promise.all(Array.from({ length: opts.connections }, one));
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    rps: done / elapsed,
    p99Ms: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
    errors,
    statuses,
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
