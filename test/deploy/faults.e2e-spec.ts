// Fault injection on the compose topology run as local processes: under a steady mixed load through the gateway
// (exchange conversions, generator draws, calculator calls over HTTP and gRPC, transactions, children reporting
// to the master), every role is SIGKILLed in turn and brought back by its restart policy alone, then PostgreSQL
// is restarted. Afterwards nothing answered is lost or doubled, progress never went backwards, every role is
// ready again, and the client-side error rate of each fault is printed (never asserted: it depends on timing).
import * as grpc from '@grpc/grpc-js';
import { query } from '../harness/database.js';
import { conversions } from '../fixtures/exchange.js';
import * as protoLoader from '@grpc/proto-loader';
import { SHIPPED_PROTO, type MathHelperClient } from '../calculator/calculator.clients.js';
import { ComposeLocalRun, OPERATOR_TOKEN, sleep } from './compose-local.util.js';
import { waitFor } from '../harness/wait-for.js';

/** How the waits here poll: each look costs a request. */
const POLL = { limitMs: 60_000, everyMs: 100 };

type Outcome = 'CalculationCompleted' | 'CalculationFailed';
type UnaryWithOptions = (
  req: object,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null) => void,
) => grpc.ClientUnaryCall;

const REQUEST_TIMEOUT_MS = 5000;
const PREFIX = `faults-${Date.now()}`;

function send(url: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const { json, ...rest } = init;
  return fetch(url, {
    ...rest,
    ...(json === undefined
      ? {}
      : { body: JSON.stringify(json), headers: { 'content-type': 'application/json', ...rest.headers } }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
}

/** Steady traffic of every kind, each request counted against the phase it was sent in. */
class MixedLoad {
  phase = 'warm-up';
  readonly phases: string[] = ['warm-up'];
  private readonly counts = new Map<string, { ok: number; failed: number }>();
  /** Calculator request id -> the outcome its client saw, and when. */
  readonly calculations = new Map<string, { outcome: Outcome; answeredAt: number }>();
  /** Transactions that got a 200: id -> the phase. */
  readonly transactions = new Map<string, string>();
  /** Every progress sample that answered, in order. */
  readonly progress: Array<{ uniqueNumbers: number; received: number }> = [];
  private stopped = false;
  private readonly workers: Promise<void>[] = [];
  private n = 0;
  private token?: string;

  constructor(
    private readonly gateway: string,
    private readonly grpcClient: MathHelperClient,
    readonly kinds: Set<string>,
  ) {}

  start(): this {
    const spawnLoop = (kind: string, one: () => Promise<boolean>, pauseMs: number) => {
      if (this.kinds.has(kind)) this.workers.push(this.loop(kind, one, pauseMs));
    };
    // Steady rather than saturating: two cores also have to boot each restarted role.
    spawnLoop('exchange', () => this.exchange(), 40);
    spawnLoop('generator', () => this.generator(), 80);
    spawnLoop('calculator-http', () => this.calculatorHttp(), 40);
    spawnLoop('calculator-grpc', () => this.calculatorGrpc(), 40);
    spawnLoop('transaction', () => this.transaction(), 40);
    spawnLoop('transaction', () => this.transaction(), 40);
    spawnLoop('child-report', () => this.createChild(), 1000);
    spawnLoop('master-progress', () => this.sampleProgress(), 200);
    return this;
  }

  /** Phase -> how long it lasted (printed beside the error rates; never asserted). */
  readonly durations = new Map<string, number>();
  private phaseStart = Date.now();

  enter(phase: string): void {
    this.durations.set(this.phase, Date.now() - this.phaseStart);
    this.phaseStart = Date.now();
    this.phase = phase;
    this.phases.push(phase);
  }

  async stop(): Promise<void> {
    this.durations.set(this.phase, Date.now() - this.phaseStart);
    this.stopped = true;
    await Promise.all(this.workers);
  }

  answered(kind: string, phase?: string): number {
    return [...this.counts]
      .filter(([k]) => k.endsWith(`|${kind}`) && (!phase || k.startsWith(`${phase}|`)))
      .reduce((sum, [, c]) => sum + c.ok, 0);
  }

  /** Phase -> kind -> "failed/total (rate)". */
  errorRates(): Record<string, Record<string, string>> {
    const table: Record<string, Record<string, string>> = {};
    for (const phase of this.phases) {
      const row: Record<string, string> = {};
      for (const kind of this.kinds) {
        const c = this.counts.get(`${phase}|${kind}`) ?? { ok: 0, failed: 0 };
        const total = c.ok + c.failed;
        row[kind] = `${c.failed}/${total}${total ? ` (${((100 * c.failed) / total).toFixed(1)}%)` : ''}`;
      }
      table[phase] = row;
    }
    return table;
  }

  private async loop(kind: string, one: () => Promise<boolean>, pauseMs: number): Promise<void> {
    while (!this.stopped) {
      const phase = this.phase;
      const ok = await one().catch(() => false);
      const c = this.counts.get(`${phase}|${kind}`) ?? { ok: 0, failed: 0 };
      if (ok) c.ok++;
      else c.failed++;
      this.counts.set(`${phase}|${kind}`, c);
      await sleep(ok ? pauseMs : Math.max(pauseMs, 50));
    }
  }

  private async exchange(): Promise<boolean> {
    const c = conversions.usdToGbp;
    const res = await send(`${this.gateway}/exchange`, { method: 'POST', json: c.request });
    return res.status === 200 && ((await res.json()) as { result: number }).result === c.result;
  }

  private async generator(): Promise<boolean> {
    const res = await send(`${this.gateway}/generator/random`);
    await res.arrayBuffer();
    return res.status === 200;
  }

  private nextCalculation(): { id: string; base: number } {
    const n = this.n++;
    // Every seventh overflows, so failed outcomes are stored under faults too.
    return { id: `${PREFIX}-calc-${n}`, base: n % 7 === 0 ? 21 : n % 20 };
  }

  private async calculatorHttp(): Promise<boolean> {
    const { id, base } = this.nextCalculation();
    const res = await send(`${this.gateway}/calculator/factorial`, {
      method: 'POST',
      json: { base },
      headers: { 'x-request-id': id },
    });
    await res.arrayBuffer();
    if (res.status === 200)
      this.calculations.set(id, { outcome: 'CalculationCompleted', answeredAt: Date.now() });
    else if (res.status === 422)
      this.calculations.set(id, { outcome: 'CalculationFailed', answeredAt: Date.now() });
    else return false;
    return true;
  }

  private async calculatorGrpc(): Promise<boolean> {
    const { id, base } = this.nextCalculation();
    const metadata = new grpc.Metadata();
    metadata.set('x-request-id', id);
    const err = await new Promise<grpc.ServiceError | null>((done) =>
      // A deadline, so a call during the calculator's restart fails instead of waiting for it.
      (this.grpcClient as unknown as { Factorial: UnaryWithOptions }).Factorial(
        { base: String(base) },
        metadata,
        { deadline: Date.now() + REQUEST_TIMEOUT_MS },
        (e) => done(e),
      ),
    );
    if (!err) this.calculations.set(id, { outcome: 'CalculationCompleted', answeredAt: Date.now() });
    else if (err.code === grpc.status.OUT_OF_RANGE)
      this.calculations.set(id, { outcome: 'CalculationFailed', answeredAt: Date.now() });
    else return false;
    return true;
  }

  private async transaction(): Promise<boolean> {
    const phase = this.phase;
    if (!this.token) {
      const res = await send(`${this.gateway}/auth/token`, {
        method: 'POST',
        json: { username: 'alice', password: 'password' },
      });
      if (res.status !== 200) return false;
      this.token = ((await res.json()) as { token: string }).token;
    }
    const key = `${PREFIX}-tx-${this.n++}`;
    const res = await send(`${this.gateway}/transaction/transaction`, {
      method: 'POST',
      json: { amount: '10.50', currency: 'USD' },
      headers: { authorization: `Bearer ${this.token}`, 'idempotency-key': key },
    });
    if (res.status === 401) this.token = undefined;
    if (res.status !== 200) {
      await res.arrayBuffer();
      return false;
    }
    const body = (await res.json()) as { id: string; status: string };
    this.transactions.set(String(body.id), phase);
    return body.status === 'pending' || body.status === 'completed';
  }

  private async createChild(): Promise<boolean> {
    const res = await send(`${this.gateway}/master/create-child`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPERATOR_TOKEN}` },
      json: { count: 2000, min: 0, max: 50_000 },
    });
    await res.arrayBuffer();
    // 429: the concurrent-children limit, a correct answer under steady spawning.
    return res.status === 202 || res.status === 429;
  }

  private async sampleProgress(): Promise<boolean> {
    const res = await send(`${this.gateway}/master/progress`);
    if (res.status !== 200) {
      await res.arrayBuffer();
      return false;
    }
    const { uniqueNumbers, received } = (await res.json()) as { uniqueNumbers: number; received: number };
    this.progress.push({ uniqueNumbers, received });
    return true;
  }
}

/**
 * A MathHelper client that redials within a second: grpc-js backs off up to two minutes by default after failed
 * connects, which would measure the client's backoff rather than the calculator's recovery.
 */
function reconnectingClient(port: number): MathHelperClient {
  const def = protoLoader.loadSync(SHIPPED_PROTO, { keepCase: true, longs: String, defaults: true });
  const Ctor = grpc.loadPackageDefinition(def).MathHelper as grpc.ServiceClientConstructor;
  return new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    'grpc.initial_reconnect_backoff_ms': 100,
    'grpc.max_reconnect_backoff_ms': 1000,
  }) as unknown as MathHelperClient;
}

/** The load kinds the running roles can serve. */
function loadKinds(running: Set<string>): Set<string> {
  const kinds = new Set<string>();
  if (running.has('exchange')) kinds.add('exchange');
  if (running.has('generator') && running.has('exchange')) kinds.add('generator');
  if (running.has('calculator')) ['calculator-http', 'calculator-grpc'].forEach((k) => kinds.add(k));
  if (['auth', 'transaction', 'psp'].every((r) => running.has(r))) kinds.add('transaction');
  if (running.has('master')) ['child-report', 'master-progress'].forEach((k) => kinds.add(k));
  return kinds;
}

describe('faults on the compose topology run as local processes', () => {
  let run: ComposeLocalRun;
  let grpcClient: MathHelperClient;
  /** Stopped in afterAll too, so a failing assertion never leaves its workers running. */
  let active: MixedLoad | undefined;

  beforeAll(async () => {
    run = await ComposeLocalRun.start();
    grpcClient = reconnectingClient(run.published('calculator', 50051));
  }, 180_000);

  afterAll(async () => {
    await active?.stop();
    grpcClient?.close();
    if (run?.exitCode === null) await run.stop();
    run?.cleanUp();
  });

  it('survives a SIGKILL of every role and a PostgreSQL restart: nothing answered is lost or doubled', async () => {
    const status = await run.status();
    const running = status.services.filter((s) => s.state !== 'skipped');
    const skipped = status.services
      .filter((s) => s.state === 'skipped')
      .map((s) => `${s.name} (${s.skipped})`);
    if (skipped.length > 0)
      process.stdout.write(`faults: not in this build, not faulted: ${skipped.join(', ')}\n`);
    const databaseUrl = status.postgres!.url!;
    const load = new MixedLoad(
      run.gatewayUrl,
      grpcClient,
      loadKinds(new Set(running.map((s) => s.name))),
    ).start();
    active = load;
    await waitFor(() => [...load.kinds].every((k) => load.answered(k) >= 3), 'traffic of every kind', POLL);

    // From the end of the previous fault to the calculator's restart: answers only the crashed instance gave.
    const calculatorCrash = { from: 0, to: 0 };
    let settledAt = Date.now();
    const recovery: string[] = [];
    for (const { name } of running) {
      const current = await run.service(name);
      // A job that ran its whole lapse and exited 0 is done and, by its restart policy, stays so: nothing to kill.
      if (current.state !== 'running' && current.lastExit?.code === 0) {
        recovery.push(`${name}: finished before its turn (exit 0), not faulted`);
        continue;
      }
      load.enter(`SIGKILL ${name}`);
      const before = current.restarts;
      await run.control(name, 'kill');
      // Back by its restart policy alone, then the rest of the topology ready again by itself.
      const killedAt = Date.now();
      await waitFor(async () => (await run.service(name)).restarts > before, `${name} restarted`, POLL);
      if (name === 'calculator') Object.assign(calculatorCrash, { from: settledAt, to: Date.now() });
      const restartedAt = Date.now();
      await run.waitAllHealthy();
      recovery.push(
        `${name}: restarted after ${((restartedAt - killedAt) / 1000).toFixed(1)} s, all ready after ${((Date.now() - killedAt) / 1000).toFixed(1)} s`,
      );
      const steady = `steady after ${name}`;
      load.enter(steady);
      settledAt = Date.now();
      await waitFor(
        () => [...load.kinds].every((k) => load.answered(k, steady) >= 3),
        `traffic of every kind after ${name}`,
        POLL,
      );
    }
    load.enter('restart postgres');
    await run.control('postgres', 'restart');
    await run.waitAllHealthy();
    load.enter('steady at the end');
    await waitFor(
      () => [...load.kinds].every((k) => load.answered(k, 'steady at the end') >= 3),
      'traffic of every kind after the faults',
      POLL,
    );
    await load.stop();

    process.stdout.write(`faults: recovery (informational):\n  ${recovery.join('\n  ')}\n`);
    const rates = load.errorRates();
    process.stdout.write(
      `faults: client-side errors (failed/total) per phase and load kind:\n${Object.entries(rates)
        .filter(([phase]) => !phase.startsWith('steady after'))
        .map(
          ([phase, row]) =>
            `  ${phase.padEnd(22)} ${String(((load.durations.get(phase) ?? 0) / 1000).toFixed(1)).padStart(5)} s  ${Object.entries(
              row,
            )
              .map(([k, v]) => `${k} ${v}`)
              .join(', ')}`,
        )
        .join('\n')}\n`,
    );

    // Every role is ready again by itself; each was restarted once by its policy.
    await run.waitAllHealthy();
    const after = await run.status();
    for (const s of after.services.filter((x) => x.state !== 'skipped')) {
      expect({ name: s.name, restarted: s.restarts >= 1 }).toEqual({ name: s.name, restarted: true });
    }

    // Calculator: every answered request has exactly its two events, each stored once. The one documented
    // exception is a crash of the calculator itself (docs/calculator.md, "Durability"): events accepted in its
    // last flush window may be gone, and only requests that instance answered may be missing.
    if (load.answered('calculator-http') > 0) {
      const rows = await query<{ request_id: string; type: string }>(
        databaseUrl,
        'SELECT request_id, type FROM calculator_events WHERE request_id LIKE $1 ORDER BY seq',
        [`${PREFIX}-calc-%`],
      );
      const stored = new Map<string, string[]>();
      for (const r of rows) stored.set(r.request_id, [...(stored.get(r.request_id) ?? []), r.type]);
      const wrong = [...load.calculations].filter(
        ([id, c]) =>
          JSON.stringify(stored.get(id)) !== JSON.stringify(['CalculationRequested', c.outcome]) &&
          !(
            c.answeredAt >= calculatorCrash.from &&
            c.answeredAt <= calculatorCrash.to &&
            (stored.get(id) ?? []).length < 2
          ),
      );
      const lostInCrash = [...load.calculations].filter(([id]) => (stored.get(id) ?? []).length < 2).length;
      process.stdout.write(
        `faults: calculator: ${load.calculations.size} answered, ${lostInCrash} lost in the calculator's own crash window\n`,
      );
      expect(wrong).toEqual([]);
      const [{ total, distinct }] = await query<{ total: string; distinct: string }>(
        databaseUrl,
        'SELECT count(*) AS total, count(DISTINCT event_id) AS distinct FROM calculator_events',
      );
      expect(distinct).toBe(total);
    }

    // Transactions: every one that got a 200 completes, and is paid exactly once.
    if (load.transactions.size > 0) {
      const ids = [...load.transactions.keys()];
      await waitFor(
        async () => {
          const rows = await query<{ status: string }>(
            databaseUrl,
            'SELECT status FROM transactions WHERE id::text = ANY($1)',
            [ids],
          );
          return rows.length === ids.length && rows.every((r) => r.status === 'completed');
        },
        'every accepted transaction to complete',
        { ...POLL, limitMs: 60_000 },
      );
      const paid = await query<{ id: string; n: string }>(
        databaseUrl,
        'SELECT transaction_id::text AS id, count(*) AS n FROM processed_payments WHERE transaction_id::text = ANY($1) GROUP BY 1',
        [ids],
      );
      process.stdout.write(`faults: transactions: ${ids.length} got a 200, ${paid.length} paid\n`);
      expect(paid.filter((p) => Number(p.n) !== 1)).toEqual([]);
      expect(paid).toHaveLength(ids.length);
    }

    // Master: progress never went backwards, across its own crash and the database restart.
    const backwards = load.progress.filter(
      (p, i) =>
        i > 0 &&
        (p.uniqueNumbers < load.progress[i - 1].uniqueNumbers || p.received < load.progress[i - 1].received),
    );
    expect(backwards).toEqual([]);
  }, 240_000);
});
