// Echo benchmark: 100 connections ping-ponging lines against EchoServer and against a bare `net` server that pipes
// each socket to itself, each server in its own child process, same run; prints messages/s and the ratio.
// Then holds 10,000 idle connections and reports the server's RSS.
// Run after `tsc -p bench/tsconfig.json`: `node dist-bench/bench/echo.bench.js [seconds] [connections]`.
import { fork } from 'node:child_process';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { EchoServer } from '../src/modules/echo/echo.server.js';

type ServerKind = 'baseline' | 'echo';

export interface EchoBenchResult {
  baselineMsgsPerSec: number;
  echoMsgsPerSec: number;
  ratio: number;
}

const silent = { info() {}, warn() {}, error() {}, debug() {} };

async function serve(kind: ServerKind): Promise<void> {
  let port: number;
  if (kind === 'baseline') {
    const server = createServer((socket) => {
      socket.on('error', () => {});
      socket.pipe(socket);
    });
    await new Promise<void>((resolve) =>
      server.listen({ port: 0, host: '127.0.0.1', backlog: 1024 }, resolve),
    );
    port = (server.address() as AddressInfo).port;
  } else {
    port = await new EchoServer({ port: 0, host: '127.0.0.1', backlog: 1024 }, silent).listen();
  }
  process.on('message', (msg) => {
    if (msg === 'rss') process.send!({ rss: process.memoryUsage().rss });
  });
  process.send!({ port });
}

interface ServerProcess {
  port: number;
  rss: () => Promise<number>;
  stop: () => void;
}

function startServer(kind: ServerKind): Promise<ServerProcess> {
  const child = fork(fileURLToPath(import.meta.url), ['serve', kind], { stdio: 'inherit' });
  const rss = (): Promise<number> =>
    new Promise((resolve) => {
      child.once('message', (msg) => resolve((msg as { rss: number }).rss));
      child.send('rss');
    });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('message', (msg) =>
      resolve({ port: (msg as { port: number }).port, rss, stop: () => child.kill() }),
    );
  });
}

/** Opens `count` connections that never send anything and reports the echo server's RSS while they are held. */
export async function idleRss(count = 10_000): Promise<{ connections: number; rssMb: number }> {
  const server = await startServer('echo');
  const sockets: Socket[] = [];
  try {
    // In batches, so the accept queue never overflows into SYN retries.
    for (let opened = 0; opened < count; opened += 500) {
      const batch = Array.from(
        { length: Math.min(500, count - opened) },
        () =>
          new Promise<void>((resolve, reject) => {
            const socket = createConnection({ port: server.port, host: '127.0.0.1' }, resolve);
            socket.once('error', reject);
            sockets.push(socket);
          }),
      );
      await Promise.all(batch);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    return { connections: sockets.length, rssMb: (await server.rss()) / 2 ** 20 };
  } finally {
    for (const socket of sockets) socket.destroy();
    server.stop();
  }
}

/** Each connection keeps one line in flight; returns messages per second over `seconds`. */
async function pingPong(port: number, connections: number, seconds: number): Promise<number> {
  const line = Buffer.from('ping 0123456789 abcdefghijklmnopqrstuvwxyz\n');
  let count = 0;
  let running = true;
  const sockets: Socket[] = [];
  await Promise.all(
    Array.from(
      { length: connections },
      () =>
        new Promise<void>((resolve, reject) => {
          const socket = createConnection({ port, host: '127.0.0.1', noDelay: true }, resolve);
          socket.once('error', reject);
          sockets.push(socket);
        }),
    ),
  );
  const started = process.hrtime.bigint();
  for (const socket of sockets) {
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      while (received >= line.length) {
        received -= line.length;
        count++;
        if (running) socket.write(line);
      }
    });
    socket.write(line);
  }
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  running = false;
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  for (const socket of sockets) socket.destroy();
  return count / elapsed;
}

export async function runEchoBench(seconds = 5, connections = 100): Promise<EchoBenchResult> {
  const measure = async (kind: ServerKind): Promise<number> => {
    const server = await startServer(kind);
    try {
      await pingPong(server.port, connections, 0.5); // warm-up
      return await pingPong(server.port, connections, seconds);
    } finally {
      server.stop();
    }
  };
  // Alternate the two, so a neighbour's load on this shared machine hits both alike.
  const baseline: number[] = [];
  const echo: number[] = [];
  for (let round = 0; round < 2; round++) {
    baseline.push(await measure('baseline'));
    echo.push(await measure('echo'));
  }
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const baselineMsgsPerSec = mean(baseline);
  const echoMsgsPerSec = mean(echo);
  return { baselineMsgsPerSec, echoMsgsPerSec, ratio: echoMsgsPerSec / baselineMsgsPerSec };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === 'serve') {
    void serve(process.argv[3] as ServerKind);
  } else {
    const seconds = Number(process.argv[2] ?? 5);
    const connections = Number(process.argv[3] ?? 100);
    const r = await runEchoBench(seconds, connections);
    console.log(
      `echo: ${Math.round(r.echoMsgsPerSec)} msgs/s, bare net pipe: ${Math.round(r.baselineMsgsPerSec)} msgs/s, ` +
        `ratio ${r.ratio.toFixed(2)} (target >= 0.80)`,
    );
    const idle = await idleRss();
    console.log(
      `echo: ${idle.connections} idle connections held in ${idle.rssMb.toFixed(0)} MB RSS (target <= 300 MB)`,
    );
    process.exit(0);
  }
}
