// Payments benchmarks, at shipped defaults: durably accepted transactions/s in ROLE=all vs a bare Fastify route doing
// one INSERT per request through pg and vs the stock NestJS peer of the same write path (bench/baselines), in the same
// run; with the psp in its own role, whether the outbox drains as fast as it fills; and the p99 of the POST.
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import pg from 'pg';
import { freePort, httpLoad, ROOT, row, sleep, startRole, startScript, type BenchRow } from './lib.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const CONNECTIONS = 32;
const JWT_SECRET = randomBytes(32).toString('hex');

async function createDatabase(): Promise<string> {
  const server = process.env.DATABASE_URL;
  if (!server) throw new Error('DATABASE_URL is unset (bench/run.ts starts an embedded PostgreSQL)');
  const url = new URL(server);
  const name = `bench_${randomBytes(5).toString('hex')}`;
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  url.pathname = `/${name}`;
  return url.toString();
}

async function scalar(url: string, sql: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return Number((await client.query(sql)).rows[0].n);
  } finally {
    await client.end();
  }
}

async function aliceToken(url: string): Promise<string> {
  const res = await fetch(`${url}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'alice', password: 'password' }),
  });
  return ((await res.json()) as { token: string }).token;
}

type Load = Awaited<ReturnType<typeof httpLoad>>;

/** httpLoad counts only 2xx answers (the POST answers 200 when accepted), so its rate is the accepted rate. */
const accepted = (r: Load): number => r.rps;

const ROUNDS = 4;

interface Series {
  ok: number;
  okPerS: number;
  p99Ms: number;
}

/** Alternating rounds of the loads, so other work on the machine falls on each alike. */
async function alternate(...loads: Array<() => Promise<Load>>): Promise<Series[]> {
  const results = loads.map(() => [] as Load[]);
  for (let i = 0; i < ROUNDS; i++) for (const [k, load] of loads.entries()) results[k].push(await load());
  return results.map(summary);
}

function summary(results: Load[]): Series {
  const seconds = SECONDS / ROUNDS;
  const ok = results.reduce((n, r) => n + accepted(r) * seconds, 0);
  return {
    ok: Math.round(ok),
    okPerS: ok / (seconds * results.length),
    p99Ms: Math.max(...results.map((r) => r.p99Ms)),
  };
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  let baseP99 = 0;
  // Only the secret, which production requires and the stock peer must share; everything else ships as is.
  const roleEnv = { JWT_SECRET };

  // (a) ROLE=all (auth.verify once per token, transaction + outbox written in one statement, the dispatcher and the
  // psp draining alongside) vs bare Fastify + one INSERT, and vs the stock Nest peer of the same write path.
  const [oursDb, baseDb, peerDb] = await Promise.all([createDatabase(), createDatabase(), createDatabase()]);
  // ROLE=all also serves gRPC and the echo port: free ones, so the run never collides with anything else here.
  const all = await startRole('all', {
    ...roleEnv,
    DATABASE_URL: oursDb,
    GRPC_PORT: String(await freePort()),
    ECHO_PORT: String(await freePort()),
  });
  const base = await startScript(resolve(ROOT, 'bench/baselines/fastify-pg-insert.mjs'), {
    DATABASE_URL: baseDb,
  });
  const peer = await startScript(resolve(ROOT, 'dist-bench/bench/baselines/nest-transaction.peer.js'), {
    DATABASE_URL: peerDb,
    JWT_SECRET,
  });
  try {
    const body = JSON.stringify({ amount: '100', currency: 'USD', token: await aliceToken(all.url) });
    const load = {
      method: 'POST' as const,
      path: '/transaction/transaction',
      body,
      connections: CONNECTIONS,
    };
    for (const side of [all, base, peer]) await httpLoad({ ...load, port: side.httpPort, seconds: 1 });
    const [b, p, o] = await alternate(
      () => httpLoad({ ...load, port: base.httpPort, seconds: SECONDS / ROUNDS }),
      () => httpLoad({ ...load, port: peer.httpPort, seconds: SECONDS / ROUNDS }),
      () => httpLoad({ ...load, port: all.httpPort, seconds: SECONDS / ROUNDS }),
    );
    baseP99 = b.p99Ms;
    const stored = await scalar(oursDb, 'SELECT count(*) AS n FROM transactions');
    if (stored < o.ok) throw new Error(`only ${stored} transactions stored for ${o.ok} answered 200`);
    const peerName = 'Nest + ValidationPipe + @nestjs/jwt + TypeORM';
    rows.push(
      row(
        `POST /transaction/transaction accepted (ROLE=all), ${CONNECTIONS} connections, vs bare Fastify + pg INSERT`,
        o.okPerS,
        b.okPerS,
        'tx/s',
        '>= 0.7x',
        { name: peerName, value: p.okPerS, target: '>= 1.5x' },
      ),
      row(
        'POST /transaction/transaction p99 (ROLE=all) vs bare Fastify + pg INSERT',
        o.p99Ms,
        b.p99Ms,
        'ms',
        '<= 2x',
        { name: peerName, value: p.p99Ms, target: 'report', lowerIsBetter: true },
      ),
    );
  } finally {
    await Promise.all([all.stop(), base.stop(), peer.stop()]);
  }

  // (b) the psp in its own role: completions/s during the load vs acceptances/s, and the backlog left at the end.
  const splitDb = await createDatabase();
  const psp = await startRole('psp', { ...roleEnv, DATABASE_URL: splitDb });
  const api = await startRole('auth,transaction', {
    ...roleEnv,
    DATABASE_URL: splitDb,
    PSP_ADDR: `127.0.0.1:${psp.tcpPort}`,
  });
  try {
    const body = JSON.stringify({ amount: '100', currency: 'USD', token: await aliceToken(api.url) });
    const load = {
      method: 'POST' as const,
      path: '/transaction/transaction',
      body,
      connections: CONNECTIONS,
    };
    await httpLoad({ ...load, port: api.httpPort, seconds: 1 });
    while ((await scalar(splitDb, 'SELECT count(*) AS n FROM transaction_outbox')) > 0) await sleep(50);
    const before = await scalar(splitDb, `SELECT count(*) AS n FROM transactions WHERE status = 'completed'`);
    const started = performance.now();
    const o = await httpLoad({ ...load, port: api.httpPort, seconds: SECONDS });
    const elapsedS = (performance.now() - started) / 1000;
    const completed =
      (await scalar(splitDb, `SELECT count(*) AS n FROM transactions WHERE status = 'completed'`)) - before;
    const backlog = await scalar(splitDb, 'SELECT count(*) AS n FROM transaction_outbox');
    const drainStarted = performance.now();
    while ((await scalar(splitDb, 'SELECT count(*) AS n FROM transaction_outbox')) > 0) await sleep(20);
    const drainMs = performance.now() - drainStarted;
    const acceptedPerS = accepted(o);
    rows.push(
      row(
        'completed/s vs accepted/s, psp as its own role (drains as fast as it fills when ~1x)',
        completed / elapsedS,
        acceptedPerS,
        'tx/s',
        '>= 0.95x',
      ),
      row(
        `outbox backlog after ${SECONDS}s of load, vs transactions accepted per second`,
        backlog,
        acceptedPerS,
        'records',
        'report (< 1x: under a second behind)',
      ),
      row(
        'time to drain that backlog once the load stops',
        drainMs,
        1000,
        'ms',
        'report (ratio = time / 1 s)',
      ),
      row(
        'POST /transaction/transaction p99, psp as its own role, vs bare Fastify + pg INSERT',
        o.p99Ms,
        baseP99,
        'ms',
        'report',
      ),
    );
  } finally {
    await api.stop();
    await psp.stop();
  }
  return rows;
}
