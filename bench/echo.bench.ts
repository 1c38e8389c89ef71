// Echo benchmark: the echo-server ROLE process (`node dist/main.js`, ROLE=echo-server) against a bare `net` server
// that pipes each socket to itself, both started once and measured in alternating rounds of 100 connections
// ping-ponging lines; then each holds 10,000 idle connections and its RSS is read from /proc.
// `npm run bench` calls run(); alone, after `npm run build && tsc -p bench/tsconfig.json`:
// `node dist-bench/bench/echo.bench.js [seconds] [connections]`.
import { fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { profileArgs, scriptProfileArgs, type BenchRow } from './lib.js';

export type { BenchRow };

export interface EchoBenchOptions {
  /** Length of one measured round, per server. */
  seconds?: number;
  connections?: number;
  idleConnections?: number;
  rounds?: number;
}

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = resolve(ROOT, 'dist/main.js');
const LINE = Buffer.from('ping 0123456789 abcdefghijklmnopqrstuvwxyz\n');

interface EchoTarget {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => done(port));
    });
    s.on('error', fail);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The role as deployed: the whole Nest process, its echo listener on ECHO_PORT. Resolves once /health/ready is 200. */
async function startRole(): Promise<EchoTarget> {
  const [httpPort, echoPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [...profileArgs('role-echo-server'), MAIN], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      NODE_ENV: 'production',
      ROLE: 'echo-server',
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: String(httpPort),
      ECHO_PORT: String(echoPort),
      ECHO_BACKLOG: '2048',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`echo-server role exited with ${child.exitCode}`);
    const ok = await fetch(`http://127.0.0.1:${httpPort}/health/ready`, {
      signal: AbortSignal.timeout(1000),
    }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('echo-server role not ready after 30 s');
    }
    await sleep(100);
  }
  return {
    port: echoPort,
    pid: child.pid!,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The baseline: a bare `net` server piping each socket to itself, in a process of its own like the role. */
async function startBaseline(): Promise<EchoTarget> {
  const child = fork(fileURLToPath(import.meta.url), ['serve-baseline'], {
    stdio: 'inherit',
    execArgv: scriptProfileArgs('echo-baseline'),
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const port = await new Promise<number>((done, fail) => {
    child.once('error', fail);
    child.once('message', (msg) => done((msg as { port: number }).port));
  });
  return {
    port,
    pid: child.pid!,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function serveBaseline(): Promise<void> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  await new Promise<void>((done) => server.listen({ port: 0, host: '127.0.0.1', backlog: 2048 }, done));
  process.send!({ port: (server.address() as AddressInfo).port });
}

function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!kb) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb[1]) / 1024;
}

function connect(port: number): Promise<Socket> {
  return new Promise((done, fail) => {
    const socket = createConnection({ port, host: '127.0.0.1', noDelay: true }, () => done(socket));
    socket.once('error', fail);
  });
}

/** Opens `count` connections that never send, and reads the server's RSS while they are held. */
async function idleRss(target: EchoTarget, count: number): Promise<number> {
  const sockets: Socket[] = [];
  try {
    // In batches, so the accept queue never overflows into SYN retries.
    for (let opened = 0; opened < count; opened += 500) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(500, count - opened) }, () => connect(target.port)),
      );
      sockets.push(...batch);
    }
    await sleep(500);
    return rssMb(target.pid);
  } finally {
    for (const socket of sockets) socket.destroy();
    await sleep(500);
  }
}

/** Each connection keeps one line in flight; messages per second over `seconds`. */
async function pingPong(port: number, connections: number, seconds: number): Promise<number> {
  const sockets = await Promise.all(Array.from({ length: connections }, () => connect(port)));
  let count = 0;
  let running = true;
  const started = process.hrtime.bigint();
  for (const socket of sockets) {
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      while (received >= LINE.length) {
        received -= LINE.length;
        count++;
        if (running) socket.write(LINE);
      }
    });
    socket.write(LINE);
  }
  await sleep(seconds * 1000);
  running = false;
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  for (const socket of sockets) socket.destroy();
  return count / elapsed;
}

export async function run(options: EchoBenchOptions = {}): Promise<BenchRow[]> {
  const { seconds = 3, connections = 100, idleConnections = 10_000, rounds = 2 } = options;
  const [role, bare] = await Promise.all([startRole(), startBaseline()]);
  try {
    // Idle first, on fresh processes, so the RSS is that of held connections and not of earlier traffic.
    const idleOurs = await idleRss(role, idleConnections);
    const idleBare = await idleRss(bare, idleConnections);
    const ours: number[] = [];
    const baseline: number[] = [];
    // Alternate the two, so a neighbour's load on this shared machine hits both alike.
    for (let round = 0; round < rounds; round++) {
      for (const [target, into] of [
        [bare, baseline],
        [role, ours],
      ] as const) {
        await pingPong(target.port, connections, 0.5); // warm-up
        into.push(await pingPong(target.port, connections, seconds));
      }
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    return [
      {
        name: `echo ping-pong, ${connections} connections (role process vs bare net pipe)`,
        ours: mean(ours),
        baseline: mean(baseline),
        unit: 'msgs/s',
        ratio: mean(ours) / mean(baseline),
        target: '>= 0.8x',
      },
      {
        name: `echo RSS holding ${idleConnections.toLocaleString('en')} idle connections`,
        ours: idleOurs,
        baseline: idleBare,
        unit: 'MB',
        ratio: idleOurs / idleBare,
        target: '<= 300 MB',
      },
    ];
  } finally {
    await Promise.all([role.stop(), bare.stop()]);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === 'serve-baseline') {
    await serveBaseline();
  } else {
    const rows = await run({
      seconds: Number(process.argv[2] ?? 3),
      connections: Number(process.argv[3] ?? 100),
    });
    for (const r of rows) {
      console.log(
        `${r.name}: ours ${r.ours.toFixed(0)} ${r.unit}, baseline ${r.baseline.toFixed(0)} ${r.unit}, ` +
          `ratio ${r.ratio.toFixed(2)} (target ${r.target})`,
      );
    }
    process.exit(0);
  }
}
