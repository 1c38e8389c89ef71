// Foundation benchmarks, every role at its shipped defaults: the exchange HTTP route vs bare Fastify and the stock
// Nest peer, the typed client over Nest TCP vs raw JSON over net and stock ClientTCP/ServerTCP, the colocated call
// vs a direct function call, idle RSS and boot-to-ready time.
import 'reflect-metadata';
import { ClientTCP } from '@nestjs/microservices';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { firstValueFrom } from 'rxjs';
import { BootContext } from '../src/platform/boot-context.js';
import { resolveSettings } from '../src/platform/config/settings.js';
import { hostPortList } from '../src/platform/config/parsers.js';
import { configureRootLogger } from '../src/platform/logging/logger.js';
import type { ModulePart } from '../src/platform/part.js';
import { platformSettings } from '../src/platform/platform.settings.js';
import { RPC_HANDLER, type RpcHandlerMeta } from '../src/platform/transport/rpc-handler.decorator.js';
import { RpcHub } from '../src/platform/transport/rpc-hub.js';
import type { RpcRegistry } from '../src/platform/transport/rpc-registry.js';
import { ExchangeClient } from '../src/modules/exchange/contract.js';
import { ExchangeController } from '../src/modules/exchange/exchange.controller.js';
import { ExchangeService, RateBook } from '../src/modules/exchange/exchange.service.js';
import { DEFAULT_RATES, exchangeSettings } from '../src/modules/exchange/exchange.settings.js';
import { makeCa, makeRoleCert, type KeyPair } from '../src/roles/certs/role-certs.js';
import { bootTimes, httpLoad, ROOT, row, sleep, startRole, startScript, type BenchRow } from './lib.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
/** Two of the shipped HEAP_TRIM_IDLE_MS periods and a margin. */
const IDLE_WAIT_MS = 2 * platformSettings.heapTrimIdleMs.default + 1000;
/**
 * Each HTTP server's load before its measured rounds, the same for all three: long enough for the JIT to settle on
 * each (in 1 s steps under this load, bare Fastify was steady after 2 s and ROLE=exchange only after 6 s).
 */
const WARM_SECONDS = 8;
/** Each measurement is split into rounds taken in turn (baseline, peer, ours), so a load change hits all alike. */
const ROUNDS = 4;

/** Runs the measurements in interleaved rounds of SECONDS / ROUNDS each; returns each one's mean rate. */
async function interleaved(measure: Array<(seconds: number) => Promise<number>>): Promise<number[]> {
  const sums = measure.map(() => 0);
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < measure.length; i++) sums[i] += await measure[i](SECONDS / ROUNDS);
  }
  return sums.map((s) => s / ROUNDS);
}
const BODY = JSON.stringify({ amount: 2500.5, from: 'CAD', to: 'USD' });
const REQUEST = { amount: 2500.5, from: 'CAD', to: 'USD' };
const NEST_PEER = resolve(ROOT, 'dist-bench/bench/baselines/nest-exchange.js');

function hubFor(
  parts: ModulePart[],
  peers: BootContext['peers'],
  registry: RpcRegistry,
  env: Record<string, string> = {},
): RpcHub {
  const platform = resolveSettings(platformSettings, { env, configDir: '/nonexistent' });
  const values = new Map([[exchangeSettings, { rates: DEFAULT_RATES }]]);
  return new RpcHub(
    new BootContext(['generator'], parts, platform, values, peers, undefined, 'bench'),
    registry,
  );
}

/** The peer table of a caller whose exchange listens on 127.0.0.1:`port`. */
function exchangePeer(port: number): BootContext['peers'] {
  return new Map([
    [
      'exchange',
      {
        part: 'exchange',
        role: 'exchange',
        setting: 'EXCHANGE_ADDR',
        addresses: hostPortList()(`127.0.0.1:${port}`),
      },
    ],
  ]);
}

async function inFlight(n: number, seconds: number, call: () => Promise<unknown>): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (performance.now() < deadline) {
        await call();
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

/** The raw baseline client: newline JSON, many requests in flight on one socket. */
async function rawClient(port: number) {
  const sock = connect(port, '127.0.0.1');
  sock.setNoDelay(true);
  await new Promise((r) => sock.once('connect', r));
  const pending = new Map<number, (v: unknown) => void>();
  let id = 0;
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('data', (chunk: string) => {
    buf += chunk;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const msg = JSON.parse(buf.slice(0, i));
      buf = buf.slice(i + 1);
      pending.get(msg.id)?.(msg.response);
      pending.delete(msg.id);
    }
  });
  return {
    call: (data: unknown) =>
      new Promise((done) => {
        const n = ++id;
        pending.set(n, done);
        sock.write(JSON.stringify({ id: n, pattern: 'exchange.convert', data }) + '\n');
      }),
    close: () => sock.destroy(),
  };
}

export async function run(): Promise<BenchRow[]> {
  // The bench process hosts the typed clients: the shipped level, its few lines (connection state) discarded.
  configureRootLogger({ role: 'bench', level: 'info', destination: pino.destination('/dev/null') as never });
  const rows: BenchRow[] = [];

  // (a) POST /exchange, ROLE=all and ROLE=exchange, vs a bare Fastify route and the stock Nest peer. Each row starts
  // its own three processes and warms each alike: a baseline kept from the row before would have had more warm-up
  // (measured: bare Fastify served 8% more in the second row than in the first).
  const load = {
    method: 'POST' as const,
    path: '/exchange',
    body: BODY,
    connections: 32,
    seconds: SECONDS,
  };
  for (const role of ['all', 'exchange']) {
    const fastify = await startScript(resolve(ROOT, 'bench/baselines/fastify-exchange.mjs'));
    const nest = await startScript(NEST_PEER);
    const ours = await startRole(role);
    try {
      for (const port of [ours.httpPort, fastify.httpPort, nest.httpPort])
        await httpLoad({ ...load, port, seconds: WARM_SECONDS });
      const rate = (port: number) => async (seconds: number) =>
        (await httpLoad({ ...load, port, seconds })).rps;
      const [base, peer, mine] = await interleaved([
        rate(fastify.httpPort),
        rate(nest.httpPort),
        rate(ours.httpPort),
      ]);
      rows.push(
        row(`POST /exchange (ROLE=${role}) vs bare Fastify`, mine, base, 'req/s', '>= 0.8x', {
          name: 'Nest + ValidationPipe',
          value: peer,
          target: '>= 1.8x',
        }),
      );
    } finally {
      await Promise.all([ours.stop(), fastify.stop(), nest.stop()]);
    }
  }

  // (b) typed client, remote exchange.convert over Nest TCP vs raw newline JSON over net and vs stock ClientTCP
  // against stock ServerTCP (the same handler and ValidationPipe), 32 in flight each.
  const exchange = await startRole('exchange');
  const raw = await startScript(resolve(ROOT, 'bench/baselines/raw-json-exchange.mjs'));
  const nestTcp = await startScript(NEST_PEER, { PEER_TRANSPORT: 'tcp' });
  const stock = new ClientTCP({ host: '127.0.0.1', port: nestTcp.tcpPort });
  try {
    const hub = hubFor(
      [{ name: 'generator' } as ModulePart],
      exchangePeer(exchange.tcpPort),
      {} as RpcRegistry,
    );
    await hub.start();
    const client = new ExchangeClient(hub.channel(ExchangeClient.contract));
    await client.convert(REQUEST);
    await stock.connect();
    const stockCall = () => firstValueFrom(stock.send('exchange.convert', REQUEST));
    const rawc = await rawClient(raw.tcpPort);
    await inFlight(32, 1, () => rawc.call(REQUEST));
    await inFlight(32, 1, stockCall);
    await inFlight(32, 1, () => client.convert(REQUEST));
    const [base, peer, ours] = await interleaved([
      (seconds) => inFlight(32, seconds, () => rawc.call(REQUEST)),
      (seconds) => inFlight(32, seconds, stockCall),
      (seconds) => inFlight(32, seconds, () => client.convert(REQUEST)),
    ]);
    rows.push(
      row(
        'exchange.convert remote (typed client, Nest TCP) vs raw JSON over net, 32 in flight',
        ours,
        base,
        'calls/s',
        '>= 0.5x',
        { name: 'stock ClientTCP + ServerTCP', value: peer, target: '>= 1.5x' },
      ),
    );
    rawc.close();
    await hub.close();
    // Idle means idle: the role gives back what the load grew once its event loop has been idle for
    // HEAP_TRIM_IDLE_MS, which is at most two of its periods after the load stops.
    const loadedMb = exchange.rssMb();
    await sleep(IDLE_WAIT_MS);
    rows.push(
      row(
        `idle RSS of ROLE=exchange (${IDLE_WAIT_MS / 1000} s after the load; ${Math.round(loadedMb)} MB as it ended)`,
        exchange.rssMb(),
        150,
        'MB',
        '<= 150 MB (ratio = RSS / target)',
      ),
    );
  } finally {
    await stock.close();
    await Promise.all([exchange.stop(), raw.stop(), nestTcp.stop()]);
  }

  // (d) The same remote call with RPC_TLS=mutual (a changed setting, so a row of its own) vs plain Nest TCP: what
  // certificates on every connection and the caller-role check cost, both measured in interleaved rounds.
  const certDir = mkdtempSync(join(tmpdir(), 'polyrole-bench-mtls-'));
  const ca = makeCa(certDir);
  const mutual = (pair: KeyPair) => ({
    RPC_TLS: 'mutual',
    RPC_TLS_CA: ca.cert,
    RPC_TLS_CERT: pair.cert,
    RPC_TLS_KEY: pair.key,
  });
  const plainExchange = await startRole('exchange');
  const tlsExchange = await startRole(
    'exchange',
    mutual(makeRoleCert(certDir, ca, 'exchange', ['exchange'])),
  );
  const caller = [{ name: 'generator' } as ModulePart];
  const plainHub = hubFor(caller, exchangePeer(plainExchange.tcpPort), {} as RpcRegistry);
  const tlsHub = hubFor(
    caller,
    exchangePeer(tlsExchange.tcpPort),
    {} as RpcRegistry,
    mutual(makeRoleCert(certDir, ca, 'generator', ['generator'])),
  );
  try {
    await Promise.all([plainHub.start(), tlsHub.start()]);
    const plain = new ExchangeClient(plainHub.channel(ExchangeClient.contract));
    const tls = new ExchangeClient(tlsHub.channel(ExchangeClient.contract));
    await inFlight(32, 1, () => plain.convert(REQUEST));
    await inFlight(32, 1, () => tls.convert(REQUEST));
    const [base, ours] = await interleaved([
      (seconds) => inFlight(32, seconds, () => plain.convert(REQUEST)),
      (seconds) => inFlight(32, seconds, () => tls.convert(REQUEST)),
    ]);
    rows.push(
      row(
        'exchange.convert remote with RPC_TLS=mutual (setting changed) vs plain Nest TCP, 32 in flight',
        ours,
        base,
        'calls/s',
        'report (cost of mutual TLS)',
      ),
    );
  } finally {
    await Promise.all([plainHub.close(), tlsHub.close()]);
    await Promise.all([plainExchange.stop(), tlsExchange.stop()]);
    rmSync(certDir, { recursive: true, force: true });
  }

  // (c) the colocated call (in-process through the hub: copies, validation, context, metrics) vs a direct call.
  const service = new ExchangeService({
    settings: () => ({ rates: DEFAULT_RATES }),
  } as unknown as BootContext);
  const controller = new ExchangeController(service);
  const meta = Reflect.getMetadata(RPC_HANDLER, ExchangeController.prototype.convertRpc) as RpcHandlerMeta;
  const registry = { get: () => ({ meta, instance: controller }) } as unknown as RpcRegistry;
  const local = new ExchangeClient(
    hubFor([{ name: 'exchange' } as ModulePart], new Map(), registry).channel(ExchangeClient.contract),
  );
  const book = new RateBook(DEFAULT_RATES);
  const direct = async () => book.convert(REQUEST);
  await inFlight(1, 0.5, direct);
  await inFlight(1, 0.5, () => local.convert(REQUEST));
  const [base, ours] = await interleaved([
    (seconds) => inFlight(1, seconds / 2, direct),
    (seconds) => inFlight(1, seconds / 2, () => local.convert(REQUEST)),
  ]);
  rows.push(
    row(
      'exchange.convert colocated (typed client in-process) vs direct function call',
      ours,
      base,
      'calls/s',
      '>= 0.5x',
    ),
  );

  rows.push(await bootRow());
  return rows;
}

/**
 * Boot to ready of ROLE=exchange (spawn -> first 200 from /health/ready) vs a stock Nest + Fastify app with one route
 * (spawn -> first answer), taken in turn, median of 5 each. One unmeasured boot of each first: a role that has run
 * before on this machine, like every child the master starts, finds its compile cache filled (the image ships it).
 */
async function bootRow(): Promise<BenchRow> {
  const { ours, stock } = await bootTimes(5);
  return row(
    'boot to ready, ROLE=exchange (spawn -> 200 from /health/ready, median of 5) vs a stock Nest + Fastify app with one route (spawn -> first answer)',
    ours,
    stock,
    'ms',
    '<= 1.5x',
  );
}
