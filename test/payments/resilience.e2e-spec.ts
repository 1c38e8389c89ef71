// Issue 5: nothing accepted is lost or paid twice — with the psp down for a while, and with the process that
// hosts the transaction API killed (SIGKILL) in the middle of a burst. The psp runs in a process of its own so it
// can be stopped: `single` keeps auth and transaction together in one process, `multi` runs all three apart.
import { query } from '../harness/database.js';
import { sleep, Topology, TOPOLOGIES, type RoleProcess, type TopologyKind } from '../harness/topology.js';
import { post, secrets, tokenOf, POLL, users } from './payments.fixtures.js';
import { waitFor } from '../harness/wait-for.js';
import { expectEach } from '../harness/expect-each.js';

const ENV = {
  JWT_SECRET: secrets.jwt,
  OUTBOX_LEASE_MS: '3000',
  OUTBOX_POLL_MS: '200',
  OUTBOX_RETRY_MIN_MS: '100',
  OUTBOX_RETRY_MAX_MS: '1000',
  RPC_TIMEOUT_MS: '1000',
  PSP_DELAY_MS: '5',
};

function start(kind: TopologyKind): Promise<Topology> {
  return kind === 'single'
    ? Topology.start([{ name: 'app', role: 'auth,transaction' }, { role: 'psp' }], { env: ENV })
    : Topology.startKind('multi', ['auth', 'transaction', 'psp'], { env: ENV });
}

/** How many times the psp logged paying each transaction id, over all its runs. */
function paymentsLogged(psp: RoleProcess): Map<string, number> {
  const counts = new Map<string, number>();
  for (const l of psp.logs())
    if (typeof l.msg === 'string' && l.msg.startsWith('==> Making transaction with PSP'))
      counts.set(String(l.transactionId), (counts.get(String(l.transactionId)) ?? 0) + 1);
  return counts;
}

describe.each(TOPOLOGIES)('payment durability, %s topology', (kind) => {
  let topo: Topology;
  let api: RoleProcess;
  let psp: RoleProcess;
  let alice: string;
  const statuses = async (ids: string[]) =>
    query<{ id: string; status: string }>(
      topo.databaseUrl,
      'SELECT id, status FROM transactions WHERE id = ANY($1)',
      [ids],
    );
  const allCompleted = (ids: string[]) =>
    waitFor(
      async () =>
        (await statuses(ids)).filter((r) => r.status === 'completed').length === ids.length
          ? true
          : undefined,
      'every transaction completed',
      { ...POLL, limitMs: 30_000 },
    );
  const paidRows = async (ids: string[]) =>
    (
      await query<{ n: number }>(
        topo.databaseUrl,
        'SELECT count(*)::int AS n FROM processed_payments WHERE transaction_id = ANY($1)',
        [ids],
      )
    )[0].n;

  beforeAll(async () => {
    topo = await start(kind);
    api = kind === 'single' ? topo.get('app') : topo.get('transaction');
    psp = topo.get('psp');
    alice = await tokenOf((kind === 'single' ? api : topo.get('auth')).url, users.alice);
  });
  afterAll(async () => {
    await topo?.stop();
  });

  it('accepts transactions while the psp is down and completes each once when it is back', async () => {
    expect(await psp.stop()).toBe(0);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await post(`${api.url}/transaction/transaction`, {
        amount: 10 + i,
        currency: 'USD',
        token: alice,
      });
      expect(res.status).toBe(200);
      ids.push(res.body.id);
    }
    // Delivery was attempted and failed for every one of them; they wait, pending.
    await waitFor(
      async () => {
        const [row] = await query<{ n: number }>(
          topo.databaseUrl,
          'SELECT count(*)::int AS n FROM transaction_outbox WHERE attempts > 0 AND transaction_id = ANY($1)',
          [ids],
        );
        return row.n === ids.length ? true : undefined;
      },
      'a failed delivery of each',
      POLL,
    );
    expectEach(await statuses(ids), (r) => r.status === 'pending', 'each transaction still pending');

    await psp.restart();
    await allCompleted(ids);
    expect(await paidRows(ids)).toBe(ids.length);
    const logged = paymentsLogged(psp);
    expect(ids.map((id) => logged.get(id))).toEqual(ids.map(() => 1));
  });

  it('completes exactly once every transaction that got a 200 when the API process is SIGKILLed mid-burst', async () => {
    const accepted: string[] = [];
    let killed = false;
    const burst = Array.from({ length: 8 }, async (_, worker) => {
      for (let i = 0; !killed; i++) {
        try {
          const res = await post(`${api.url}/transaction/transaction`, {
            amount: `${worker + 1}.${String(i % 100).padStart(2, '0')}`,
            currency: 'EUR',
            token: alice,
          });
          if (res.status === 200) accepted.push(res.body.id);
        } catch {
          await sleep(20); // the process is gone; the burst stops once the kill is known
        }
      }
    });
    await waitFor(async () => (accepted.length >= 60 ? true : undefined), 'a burst under way', POLL);
    await api.kill();
    killed = true;
    await Promise.all(burst);
    expect(accepted.length).toBeGreaterThanOrEqual(60);

    await api.restart();
    await allCompleted(accepted);
    expect(await paidRows(accepted)).toBe(accepted.length);
    const logged = paymentsLogged(psp);
    expect(accepted.filter((id) => logged.get(id) !== 1)).toEqual([]);
    // Whatever was committed without an answer completes too, and nothing anywhere was paid twice.
    await waitFor(
      async () => {
        const [row] = await query<{ n: number }>(
          topo.databaseUrl,
          'SELECT count(*)::int AS n FROM transaction_outbox',
        );
        return row.n === 0 ? true : undefined;
      },
      'an empty outbox',
      POLL,
    );
    expectEach(Object.fromEntries(logged), (n) => n === 1, 'each transaction paid exactly once');
    const [{ pending }] = await query<{ pending: number }>(
      topo.databaseUrl,
      `SELECT count(*) FILTER (WHERE status <> 'completed')::int AS pending FROM transactions`,
    );
    expect(pending).toBe(0);
  });
});
