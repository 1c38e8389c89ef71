// The event store under faults, in both topologies: PostgreSQL cut off mid-load (through a TCP proxy the test
// controls) and back, then SIGTERM mid-load. Either way every request answered has its events stored, once.
import { freshDatabase, query } from '../harness/database.js';
import { freePort } from '../harness/ports.js';
import { Topology, TOPOLOGIES, type RoleProcess } from '../harness/topology.js';
import {
  getJson,
  grpcCall,
  mathHelperClient,
  postJson,
  TcpProxy,
  type MathHelperClient,
} from './calculator.clients.js';
import { waitFor } from '../harness/wait-for.js';

/** How the waits here poll: each look costs a request. */
const POLL = { limitMs: 20_000, everyMs: 50 };

type Outcome = 'CalculationCompleted' | 'CalculationFailed';

/** Steady traffic through HTTP and gRPC, remembering every request that got an answer and what it was. */
class Load {
  readonly answered = new Map<string, Outcome>();
  private stopped = false;
  private readonly workers: Promise<void>[] = [];
  private n = 0;

  constructor(
    private readonly prefix: string,
    private readonly calc: RoleProcess,
    private readonly client: MathHelperClient,
  ) {}

  start(http: number, grpc: number): this {
    for (let i = 0; i < http; i++) this.workers.push(this.loop(() => this.http()));
    for (let i = 0; i < grpc; i++) this.workers.push(this.loop(() => this.grpc()));
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.workers);
  }

  private nextId(): { id: string; base: number } {
    const n = this.n++;
    // Every seventh request overflows, so failures are recorded under load too.
    return { id: `${this.prefix}-${n}`, base: n % 7 === 0 ? 21 : n % 20 };
  }

  private async loop(one: () => Promise<boolean>): Promise<void> {
    while (!this.stopped) {
      const ok = await one().catch(() => false);
      if (!ok) await new Promise((r) => setTimeout(r, 20));
    }
  }

  private async http(): Promise<boolean> {
    const { id, base } = this.nextId();
    const res = await postJson(this.calc.url, '/calculator/factorial', { base }, { requestId: id });
    if (res.status === 200) this.answered.set(id, 'CalculationCompleted');
    else if (res.status === 422) this.answered.set(id, 'CalculationFailed');
    else return false;
    return true;
  }

  private async grpc(): Promise<boolean> {
    const { id, base } = this.nextId();
    const { err } = await grpcCall(this.client, 'Factorial', { base: String(base) }, id);
    if (!err) this.answered.set(id, 'CalculationCompleted');
    else if (err.details?.includes('overflows')) this.answered.set(id, 'CalculationFailed');
    else return false;
    return true;
  }
}

/** Request id -> its stored event types, straight from the table. */
async function storedEvents(databaseUrl: string, prefix: string): Promise<Map<string, string[]>> {
  const rows = await query<{ request_id: string; type: string }>(
    databaseUrl,
    `SELECT request_id, type FROM calculator_events WHERE request_id LIKE $1 ORDER BY seq`,
    [`${prefix}-%`],
  );
  const byRequest = new Map<string, string[]>();
  for (const r of rows) byRequest.set(r.request_id, [...(byRequest.get(r.request_id) ?? []), r.type]);
  return byRequest;
}

function expectAllStored(load: Load, stored: Map<string, string[]>): void {
  const missing = [...load.answered].filter(
    ([id, outcome]) => JSON.stringify(stored.get(id)) !== JSON.stringify(['CalculationRequested', outcome]),
  );
  expect({ answered: load.answered.size > 0, missing }).toEqual({ answered: true, missing: [] });
}

describe.each(TOPOLOGIES)('calculator event store under faults, %s topology', (kind) => {
  let databaseUrl: string;
  let proxy: TcpProxy;
  let topo: Topology;
  let calc: RoleProcess;
  let client: MathHelperClient;

  beforeAll(async () => {
    databaseUrl = await freshDatabase();
    const target = new URL(databaseUrl);
    proxy = new TcpProxy(target.hostname, Number(target.port));
    await proxy.start();
    const grpcPort = await freePort();
    topo = await Topology.startKind(kind, ['calculator'], {
      databaseUrl: proxy.urlFor(databaseUrl),
      env: {
        GRPC_HOST: '127.0.0.1',
        GRPC_PORT: String(grpcPort),
        // A longer window and a small bound, so events are buffered at SIGTERM and an outage fills the buffer.
        EVENTSTORE_FLUSH_MS: '200',
        EVENTSTORE_BATCH_SIZE: '20',
        EVENTSTORE_MAX_BUFFER: '60',
      },
    });
    calc = topo.host('calculator');
    client = mathHelperClient(grpcPort);
  });
  afterAll(async () => {
    client?.close();
    await topo?.stop();
    await proxy?.close();
  });

  it('keeps answering through a PostgreSQL outage, makes requests wait when full, and loses no event', async () => {
    const load = new Load(`${kind}-outage`, calc, client).start(3, 2);
    await waitFor(() => load.answered.size >= 30, 'traffic', POLL);

    await proxy.cut();
    await waitFor(
      async () => (await fetch(`${calc.url}/health/ready`)).status === 503,
      'readiness to turn false',
      POLL,
    );
    await waitFor(
      async () => {
        const stats = await getJson(calc.url, '/calculator/stats');
        return stats.body.stale === true && stats.body.buffer.waitingAppends > 0;
      },
      'requests waiting on the full buffer',
      POLL,
    );
    await calc.waitForLog((l) => l.msg === 'event store write failed; events stay buffered');

    await proxy.restore();
    await waitFor(
      async () => (await fetch(`${calc.url}/health/ready`)).status === 200,
      'readiness to return',
      POLL,
    );
    await load.stop();
    expect((await getJson(calc.url, '/calculator/stats')).body.stale).toBe(false);

    expectAllStored(load, await storedEvents(databaseUrl, `${kind}-outage`));
    const [{ total, distinct }] = await query<{ total: string; distinct: string }>(
      databaseUrl,
      'SELECT count(*) AS total, count(DISTINCT event_id) AS distinct FROM calculator_events',
    );
    expect(distinct).toBe(total);
  });

  it('stores the events of every request answered before SIGTERM, then exits 0', async () => {
    const load = new Load(`${kind}-sigterm`, calc, client).start(3, 2);
    await waitFor(() => load.answered.size >= 30, 'traffic', POLL);

    calc.signal('SIGTERM');
    expect(await calc.wait()).toBe(0);
    await load.stop();

    expectAllStored(load, await storedEvents(databaseUrl, `${kind}-sigterm`));
    expect(calc.logs().map((l) => l.msg)).toEqual(
      expect.arrayContaining(['closed grpc listener :' + calc.env.GRPC_PORT, 'drained event buffer']),
    );
  });
});
