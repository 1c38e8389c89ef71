// Master-child benchmarks: (a) numbers ingested per second into a ROLE=master process (validation, bitmap,
// PostgreSQL group commit) from 4 children-like reporters over Nest TCP, against a bare net server that only parses
// the same batches, both driven by the same typed MasterClient; (b) how many draws and how long 4 real children
// (process spawner) take to cover [0, 1,000,000) completely, against the coupon-collector expectation n·H(n).
//
// Load shape, as shipped: 4 reporters, each on its own connection like a child, each with CHILD_MAX_IN_FLIGHT
// batches of CHILD_BATCH_SIZE numbers in flight (the child's defaults, read from its settings, so the bench follows
// whatever ships). The master's cost per batch (its share of a commit, a report row, a reply) is fixed while the bare
// server's cost is almost all per number, which is why the shipped batch is 10,000 (docs/master-child.md).
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import { BootContext } from '../src/platform/boot-context.js';
import { hostPortList } from '../src/platform/config/parsers.js';
import { resolveSettings } from '../src/platform/config/settings.js';
import { configureRootLogger } from '../src/platform/logging/logger.js';
import type { ModulePart } from '../src/platform/part.js';
import { platformSettings } from '../src/platform/platform.settings.js';
import { RpcHub } from '../src/platform/transport/rpc-hub.js';
import type { RpcRegistry } from '../src/platform/transport/rpc-registry.js';
import { createRandom, uniformInt } from '../src/modules/master-child/child/random.util.js';
import { MasterClient } from '../src/modules/master-child/contract.js';
import { childSettings } from '../src/modules/master-child/master.settings.js';
import { median, row, ROOT, sleep, startRole, startScript, stockNestBoot, type BenchRow } from './lib.js';

export type { BenchRow };

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const REPORTERS = 4;
const IN_FLIGHT = childSettings.maxInFlight.default!;
const BATCH = childSettings.batchSize.default!;
const INGEST_RANGE = 10_000_000;
const COVER_RANGE = 1_000_000;
const COVER_CAP_MS = 60_000;

/** A database of its own on the run's server (DATABASE_URL), so each master starts from empty progress. */
async function freshDatabase(): Promise<string> {
  const server = process.env.DATABASE_URL;
  if (!server) throw new Error('the master benchmark needs DATABASE_URL (bench/run.ts sets one)');
  const url = new URL(server);
  const name = `bench_master_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  url.pathname = `/${name}`;
  return url.toString();
}

/** One reporter = one hub = one TCP connection to the master, like one child. */
async function reporter(port: number): Promise<{ client: MasterClient; close(): Promise<void> }> {
  const platform = resolveSettings(platformSettings, {
    env: { RPC_TIMEOUT_MS: '20000' },
    configDir: '/nonexistent',
  });
  const peers: BootContext['peers'] = new Map([
    [
      'master',
      {
        part: 'master',
        role: 'master',
        setting: 'MASTER_ADDR',
        addresses: hostPortList()(`127.0.0.1:${port}`),
      },
    ],
  ]);
  const boot = new BootContext(
    ['child'],
    [{ name: 'child' } as ModulePart],
    platform,
    new Map(),
    peers,
    undefined,
    'bench',
  );
  const hub = new RpcHub(boot, {} as RpcRegistry);
  await hub.start();
  return { client: new MasterClient(hub.channel(MasterClient.contract)), close: () => hub.close() };
}

/** A child the master started: its id and CHILD_SECRET, which the master asks for on every report. */
interface AdoptedChild {
  childId: string;
  secret: string;
}

/**
 * The master takes reports only from children it started, each proving its id with the secret handed at spawn.
 * So each reporter speaks for a real child: started through the API (process spawner), its secret read from its
 * environment (/proc, same user), then stopped; the master keeps ended children and their secrets.
 */
async function adoptChildren(url: string, n: number): Promise<AdoptedChild[]> {
  const adopted: AdoptedChild[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${url}/master/children`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ count: 1_000_000_000 }),
    });
    if (res.status !== 202) throw new Error(`POST /master/children answered ${res.status}`);
    const { id } = (await res.json()) as { id: string };
    let child: { pid?: number; status: string };
    do {
      await sleep(20);
      child = (await (await fetch(`${url}/master/children/${id}`)).json()) as typeof child;
    } while (child.pid === undefined && child.status === 'starting');
    const environ = readFileSync(`/proc/${child.pid}/environ`, 'utf8').split('\0');
    const secret = environ.find((e) => e.startsWith('CHILD_SECRET='))?.slice('CHILD_SECRET='.length);
    if (!secret) throw new Error(`child ${id} has no CHILD_SECRET`);
    await fetch(`${url}/master/children/${id}`, { method: 'DELETE' });
    do {
      await sleep(20);
      child = (await (await fetch(`${url}/master/children/${id}`)).json()) as typeof child;
    } while (child.status === 'starting' || child.status === 'running');
    adopted.push({ childId: id, secret });
  }
  return adopted;
}

/** Above any seq a stopped child sent itself, so the bench's batches are never taken for its replays. */
let nextSeq = 1_000_000;

/**
 * Reports fresh random batches for `seconds` from every reporter, IN_FLIGHT at a time each; returns numbers
 * acknowledged per second and in all.
 */
async function drive(
  clients: MasterClient[],
  children: AdoptedChild[],
  tag: string,
  seconds: number,
): Promise<{ rate: number; numbers: number }> {
  const deadline = performance.now() + seconds * 1000;
  let acked = 0;
  const started = performance.now();
  await Promise.all(
    clients.map(async (client, r) => {
      const random = createRandom(`${tag}-${r}`);
      const { childId, secret } = children[r];
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (performance.now() < deadline) {
            const numbers = new Array<number>(BATCH);
            for (let i = 0; i < BATCH; i++) numbers[i] = uniformInt(random, 0, INGEST_RANGE);
            await client.report({ childId, secret, seq: nextSeq++, numbers });
            acked += BATCH;
          }
        }),
      );
    }),
  );
  return { rate: acked / ((performance.now() - started) / 1000), numbers: acked };
}

async function progressOf(url: string): Promise<{ uniqueNumbers: number; received: number }> {
  const res = await fetch(`${url}/master/progress`);
  if (!res.ok) throw new Error(`GET /master/progress answered ${res.status}`);
  return (await res.json()) as { uniqueNumbers: number; received: number };
}

async function ingest(rows: BenchRow[]): Promise<number> {
  const master = await startRole('master', {
    DATABASE_URL: await freshDatabase(),
    MASTER_RANGE: String(INGEST_RANGE),
  });
  const bare = await startScript(resolve(ROOT, 'bench/baselines/raw-master-report.mjs'));
  const ours = await Promise.all(Array.from({ length: REPORTERS }, () => reporter(master.tcpPort)));
  // The bare server counts nothing, so any id and secret do for it.
  const children = await adoptChildren(master.url, REPORTERS);
  const counted = (await progressOf(master.url)).received;
  const base = await Promise.all(Array.from({ length: REPORTERS }, () => reporter(bare.tcpPort)));
  try {
    const oc = ours.map((r) => r.client);
    const bc = base.map((r) => r.client);
    await drive(bc, children, 'warm-base', 1);
    let acked = (await drive(oc, children, 'warm-ours', 1)).numbers;
    // Alternating halves, so a change in the machine's load hits both sides alike.
    let baseNumbers = 0;
    let oursNumbers = 0;
    let baseSeconds = 0;
    let oursSeconds = 0;
    for (const half of [1, 2]) {
      const b = await drive(bc, children, `base-${half}`, SECONDS / 2);
      baseNumbers += b.numbers;
      baseSeconds += b.numbers / b.rate;
      const o = await drive(oc, children, `ours-${half}`, SECONDS / 2);
      oursNumbers += o.numbers;
      acked += o.numbers;
      oursSeconds += o.numbers / o.rate;
    }
    // Every acknowledged number must have been counted (and persisted) by the master.
    const received = (await progressOf(master.url)).received - counted;
    if (received !== acked) throw new Error(`master counted ${received} numbers, ${acked} were acknowledged`);
    const oursRate = oursNumbers / oursSeconds;
    rows.push(
      row(
        `master.report ingest, ROLE=master with PostgreSQL vs bare net parse (${REPORTERS} reporters x ${IN_FLIGHT} in flight x ${BATCH} numbers, shipped defaults)`,
        oursRate,
        baseNumbers / baseSeconds,
        'numbers/s',
        '>= 0.5x',
      ),
    );
    return oursRate;
  } finally {
    await Promise.all([...ours, ...base].map((r) => r.close()));
    await Promise.all([master.stop(), bare.stop()]);
  }
}

/** n·H(n): the expected number of uniform draws until every one of n values has been seen. */
export function couponCollector(n: number): number {
  let h = 0;
  for (let k = 1; k <= n; k++) h += 1 / k;
  return n * h;
}

async function cover(rows: BenchRow[], ingestRate: number): Promise<void> {
  const expected = couponCollector(COVER_RANGE);
  // Enough draws that missing a number is very unlikely (P ≈ n·e^(-draws/n) ≈ 4e-5), yet children stop at coverage.
  const perChild = Math.ceil((24 * COVER_RANGE) / REPORTERS);
  const master = await startRole('master', {
    DATABASE_URL: await freshDatabase(),
    MASTER_RANGE: String(COVER_RANGE),
    MASTER_MAX_CHILDREN: String(REPORTERS),
    MASTER_CHILD_SEED: 'bench-cover',
    MASTER_CHILD_TIMEOUT_MS: String(COVER_CAP_MS * 2),
  });
  try {
    const started = performance.now();
    for (let i = 0; i < REPORTERS; i++) {
      const res = await fetch(`${master.url}/master/children`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ count: perChild }),
      });
      if (res.status !== 202) throw new Error(`POST /master/children answered ${res.status}`);
    }
    let progress = await progressOf(master.url);
    while (progress.uniqueNumbers < COVER_RANGE && performance.now() - started < COVER_CAP_MS) {
      await sleep(20);
      progress = await progressOf(master.url);
    }
    const seconds = (performance.now() - started) / 1000;
    const covered = progress.uniqueNumbers === COVER_RANGE;
    const note = covered
      ? ''
      : ` (NOT covered within ${COVER_CAP_MS / 1000} s: ${((progress.uniqueNumbers / COVER_RANGE) * 100).toFixed(3)}%)`;
    rows.push(
      row(
        `draws to cover [0, 1,000,000) with ${REPORTERS} children vs coupon-collector n·H(n)${note}`,
        progress.received,
        expected,
        'draws',
        'report (~1x expected)',
      ),
    );
    rows.push(
      row(
        `time to cover [0, 1,000,000) with ${REPORTERS} children from the first POST vs n·H(n) at the measured ingest rate${note}`,
        seconds,
        expected / ingestRate,
        's',
        'report',
      ),
    );
  } finally {
    // The master stops its children on SIGTERM.
    await master.stop();
  }
}

/**
 * POST /master/create-child -> the child's first report reaching the master (its record shows a batch), with the
 * process spawner as shipped, median of 5; vs the boot of a stock Nest + Fastify app (spawn -> first answer), taken
 * in turn: the floor a child that is itself a Nest process could reach.
 */
async function firstReport(rows: BenchRow[]): Promise<void> {
  const master = await startRole('master', { DATABASE_URL: await freshDatabase() });
  const child = async () => {
    const started = performance.now();
    const res = await fetch(`${master.url}/master/create-child`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ count: 1000 }),
    });
    if (res.status !== 202) throw new Error(`POST /master/create-child answered ${res.status}`);
    const { id } = (await res.json()) as { id: string };
    for (;;) {
      const detail = (await (await fetch(`${master.url}/master/children/${id}`)).json()) as {
        status: string;
        reported?: { batches: number };
      };
      if ((detail.reported?.batches ?? 0) > 0) return performance.now() - started;
      if (detail.status === 'failed') throw new Error(`child ${id} failed: ${JSON.stringify(detail)}`);
      await sleep(10);
    }
  };
  try {
    await child();
    await stockNestBoot();
    const ours: number[] = [];
    const stock: number[] = [];
    for (let i = 0; i < 5; i++) {
      stock.push(await stockNestBoot());
      ours.push(await child());
    }
    rows.push(
      row(
        "POST /master/create-child -> the child's first report (process spawner, median of 5) vs a stock Nest + Fastify app's boot (spawn -> first answer)",
        median(ours),
        median(stock),
        'ms',
        'report',
      ),
    );
  } finally {
    await master.stop();
  }
}

export async function run(): Promise<BenchRow[]> {
  configureRootLogger({ role: 'bench', level: 'warn' });
  const rows: BenchRow[] = [];
  await firstReport(rows);
  const rate = await ingest(rows);
  await cover(rows, rate);
  return rows;
}
