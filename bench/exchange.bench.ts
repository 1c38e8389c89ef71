// Foundation benchmarks: the exchange HTTP route vs bare Fastify, the typed client over Nest TCP vs raw JSON over
// net, the colocated call vs a direct function call, idle RSS and boot-to-ready time.
import 'reflect-metadata';
import { connect } from 'node:net';
import { resolve } from 'node:path';
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
import { httpLoad, ROOT, row, startRole, startScript, type BenchRow } from './lib.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const BODY = JSON.stringify({ amount: 2500.5, from: 'CAD', to: 'USD' });
const REQUEST = { amount: 2500.5, from: 'CAD', to: 'USD' };

function hubFor(parts: ModulePart[], peers: BootContext['peers'], registry: RpcRegistry): RpcHub {
  const platform = resolveSettings(platformSettings, { env: { RPC_TIMEOUT_MS: '10000' }, configDir: '/nonexistent' });
  const values = new Map([[exchangeSettings, { rates: DEFAULT_RATES }]]);
  return new RpcHub(new BootContext(['generator'], parts, platform, values, peers, undefined, 'bench'), registry);
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
  configureRootLogger({ role: 'bench', level: 'warn' });
  const rows: BenchRow[] = [];

  // (a) POST /exchange in ROLE=all vs a bare Fastify route.
  const all = await startRole('all', { RPC_TIMEOUT_MS: '10000' });
  const fastify = await startScript(resolve(ROOT, 'bench/baselines/fastify-exchange.mjs'));
  try {
    const load = { method: 'POST' as const, path: '/exchange', body: BODY, connections: 32, seconds: SECONDS };
    await httpLoad({ ...load, port: all.httpPort, seconds: 1 });
    await httpLoad({ ...load, port: fastify.httpPort, seconds: 1 });
    const base = await httpLoad({ ...load, port: fastify.httpPort });
    const ours = await httpLoad({ ...load, port: all.httpPort });
    rows.push(row('POST /exchange (ROLE=all) vs bare Fastify', ours.rps, base.rps, 'req/s', '>= 0.8x'));
  } finally {
    await Promise.all([all.stop(), fastify.stop()]);
  }

  // (b) typed client, remote exchange.convert over Nest TCP vs raw newline JSON over net, 32 in flight.
  const exchange = await startRole('exchange');
  const raw = await startScript(resolve(ROOT, 'bench/baselines/raw-json-exchange.mjs'));
  try {
    const peers: BootContext['peers'] = new Map([
      [
        'exchange',
        { part: 'exchange', role: 'exchange', setting: 'EXCHANGE_ADDR', addresses: hostPortList()(`127.0.0.1:${exchange.tcpPort}`) },
      ],
    ]);
    const hub = hubFor([{ name: 'generator' } as ModulePart], peers, {} as RpcRegistry);
    await hub.start();
    const client = new ExchangeClient(hub.channel(ExchangeClient.contract));
    await client.convert(REQUEST);
    const rawc = await rawClient(raw.tcpPort);
    await inFlight(32, 1, () => rawc.call(REQUEST));
    await inFlight(32, 1, () => client.convert(REQUEST));
    const base = await inFlight(32, SECONDS, () => rawc.call(REQUEST));
    const ours = await inFlight(32, SECONDS, () => client.convert(REQUEST));
    rows.push(row('exchange.convert remote (typed client, Nest TCP) vs raw JSON over net, 32 in flight', ours, base, 'calls/s', '>= 0.5x'));
    rawc.close();
    await hub.close();
    rows.push(row('idle RSS of ROLE=exchange', exchange.rssMb(), 150, 'MB', '<= 150 MB (ratio = RSS / target)'));
  } finally {
    await Promise.all([exchange.stop(), raw.stop()]);
  }

  // (c) the colocated call (in-process through the hub: copies, validation, context, metrics) vs a direct call.
  const service = new ExchangeService({ settings: () => ({ rates: DEFAULT_RATES }) } as unknown as BootContext);
  const controller = new ExchangeController(service);
  const meta = Reflect.getMetadata(RPC_HANDLER, ExchangeController.prototype.convertRpc) as RpcHandlerMeta;
  const registry = { get: () => ({ meta, instance: controller }) } as unknown as RpcRegistry;
  const local = new ExchangeClient(hubFor([{ name: 'exchange' } as ModulePart], new Map(), registry).channel(ExchangeClient.contract));
  const book = new RateBook(DEFAULT_RATES);
  const direct = async () => book.convert(REQUEST);
  await inFlight(1, 0.5, direct);
  await inFlight(1, 0.5, () => local.convert(REQUEST));
  const base = await inFlight(1, SECONDS / 2, direct);
  const ours = await inFlight(1, SECONDS / 2, () => local.convert(REQUEST));
  rows.push(row('exchange.convert colocated (typed client in-process) vs direct function call', ours, base, 'calls/s', 'report'));

  // Boot-to-ready with an existing database (the exchange owns no tables; ROLE=all migrates once, then reuses).
  const boots: number[] = [];
  for (let i = 0; i < 3; i++) {
    const p = await startRole('exchange');
    boots.push(p.readyMs);
    await p.stop();
  }
  const bootMs = boots.sort((a, b) => a - b)[1];
  rows.push(row('boot to ready, ROLE=exchange (median of 3)', bootMs, 2000, 'ms', '<= 2000 ms (ratio = time / target)'));
  return rows;
}
