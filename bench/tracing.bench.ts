// What tracing costs: the same role with every request sampled and exported (OTLP/HTTP protobuf to a local sink
// that reads and drops each export) against the same role with tracing off (OTEL_SDK_DISABLED), and the shipped
// default (no variable set) against off, for POST /exchange, a remote call (generator -> exchange over Nest TCP) and
// the calculator's gRPC call. The variants run side by side in the same run, in alternating rounds.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { freePort, httpLoad, ROOT, row, startRole, type BenchRow, type Spawned } from './lib.js';

const SECONDS = Number(process.env.TRACING_BENCH_SECONDS ?? 3);
const ROUNDS = 3;
const BODY = JSON.stringify({ amount: 2500.5, from: 'CAD', to: 'USD' });
const PROTO = join(ROOT, 'src/modules/calculator/proto/math_helper.proto');

const OFF = { OTEL_SDK_DISABLED: 'true' };
const exported = (sink: string) => ({
  OTEL_TRACES_SAMPLER: 'always_on',
  OTEL_EXPORTER_OTLP_ENDPOINT: sink,
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
});

/** A collector stand-in: reads each export whole and answers 200 (what a healthy collector costs the sender). */
async function startSink(): Promise<{ url: string; server: Server; spansBytes: () => number }> {
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    spansBytes: () => bytes,
  };
}

/** Best round of each variant, the rounds taken in turn so a change in the machine's load hits them alike. */
async function alternate(measure: Array<() => Promise<number>>): Promise<number[]> {
  const best = measure.map(() => 0);
  for (let r = 0; r < ROUNDS; r++)
    for (let i = 0; i < measure.length; i++) best[i] = Math.max(best[i], await measure[i]());
  return best;
}

async function grpcLoad(port: number, seconds: number): Promise<number> {
  const def = protoLoader.loadSync(PROTO, { keepCase: true, longs: String, defaults: true });
  const Ctor = grpc.loadPackageDefinition(def).MathHelper as grpc.ServiceClientConstructor;
  const client = new Ctor(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  ) as unknown as grpc.Client & {
    Factorial(req: object, cb: (err: Error | null) => void): void;
  };
  const call = () =>
    new Promise<void>((ok, fail) => client.Factorial({ base: '20' }, (e) => (e ? fail(e) : ok())));
  let n = 0;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (performance.now() < deadline) {
        await call();
        n++;
      }
    }),
  );
  client.close();
  return n / ((performance.now() - started) / 1000);
}

async function withRoles<T>(
  starts: Array<() => Promise<Spawned>>,
  fn: (s: Spawned[]) => Promise<T>,
): Promise<T> {
  const started: Spawned[] = [];
  try {
    for (const start of starts) started.push(await start());
    return await fn(started);
  } finally {
    await Promise.all(started.map((s) => s.stop()));
  }
}

export async function run(): Promise<BenchRow[]> {
  const sink = await startSink();
  const rows: BenchRow[] = [];
  try {
    // POST /exchange: exported, shipped default, off.
    const post = (s: Spawned) => async () =>
      (
        await httpLoad({
          port: s.httpPort,
          method: 'POST',
          path: '/exchange',
          body: BODY,
          connections: 32,
          seconds: SECONDS,
        })
      ).rps;
    await withRoles(
      [
        () => startRole('exchange', exported(sink.url)),
        () => startRole('exchange', {}),
        () => startRole('exchange', OFF),
      ],
      async ([traced, shipped, off]) => {
        for (const s of [traced, shipped, off]) await post(s)();
        const [t, d, o] = await alternate([post(traced), post(shipped), post(off)]);
        rows.push(
          row('POST /exchange, every request sampled and exported vs tracing off', t, o, 'req/s', '>= 0.9x'),
        );
        rows.push(
          row(
            'POST /exchange, shipped default (new traces up to 100/s sampled, no exporter set) vs tracing off',
            d,
            o,
            'req/s',
            '>= 0.9x',
          ),
        );
      },
    );

    // The remote call: GET /generator/random, the generator calling the exchange over Nest TCP; both roles alike.
    const pair = async (env: Record<string, string>) => {
      const exchange = await startRole('exchange', env);
      const generator = await startRole('generator', {
        ...env,
        EXCHANGE_ADDR: `127.0.0.1:${exchange.tcpPort}`,
      });
      return { exchange, generator };
    };
    const tracedPair = await pair(exported(sink.url));
    const offPair = await pair(OFF);
    try {
      const random = (s: Spawned) => async () =>
        (
          await httpLoad({
            port: s.httpPort,
            method: 'GET',
            path: '/generator/random',
            connections: 32,
            seconds: SECONDS,
          })
        ).rps;
      for (const s of [tracedPair.generator, offPair.generator]) await random(s)();
      const [t, o] = await alternate([random(tracedPair.generator), random(offPair.generator)]);
      rows.push(
        row(
          'remote call (GET /generator/random -> exchange.convert over Nest TCP), sampled and exported vs off',
          t,
          o,
          'req/s',
          '>= 0.9x',
        ),
      );
    } finally {
      await Promise.all([tracedPair, offPair].flatMap((p) => [p.exchange.stop(), p.generator.stop()]));
    }

    // The gRPC call: the calculator role (its event store on, as shipped).
    const calculator = async (env: Record<string, string>) => {
      const port = await freePort();
      const role = await startRole('calculator', { ...env, GRPC_HOST: '127.0.0.1', GRPC_PORT: String(port) });
      return { role, port };
    };
    const tracedCalc = await calculator(exported(sink.url));
    const offCalc = await calculator(OFF);
    try {
      for (const c of [tracedCalc, offCalc]) await grpcLoad(c.port, 1);
      const [t, o] = await alternate([
        () => grpcLoad(tracedCalc.port, SECONDS),
        () => grpcLoad(offCalc.port, SECONDS),
      ]);
      rows.push(
        row('gRPC Factorial, every call sampled and exported vs tracing off', t, o, 'calls/s', '>= 0.9x'),
      );
    } finally {
      await Promise.all([tracedCalc.role.stop(), offCalc.role.stop()]);
    }
    if (sink.spansBytes() === 0)
      throw new Error('the traced roles exported nothing: the rows would not measure export');
  } finally {
    await new Promise<void>((done) => sink.server.close(() => done()));
  }
  return rows;
}
