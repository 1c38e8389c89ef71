import { openTestSchema, type TestSchema } from '../../../test/harness/database.js';
import { testBoot } from '../../../test/harness/test-boot.js';
import { Random } from '../../platform/clock.js';
import { AppError } from '../../platform/errors/app-error.js';
import type { PaymentOrder, PaymentReceipt, PspClient } from '../psp/contract.js';
import { CreateTransactions1764100000100 } from './migrations/1764100000100-create-transactions.js';
import { OutboxTraceparent1765100000100 } from './migrations/1765100000100-outbox-traceparent.js';
import { OutboxRecordEntity } from './outbox-record.entity.js';
import { OutboxDispatcher } from './outbox.dispatcher.js';
import { OutboxRepository } from './outbox.repository.js';
import { TransactionEntity } from './transaction.entity.js';
import { transactionSettings } from './transaction.settings.js';
import { TransactionsRepository, type NewTransaction } from './transactions.repository.js';
import { waitFor } from '../../../test/harness/wait-for.js';
import { expectEach } from '../../../test/harness/expect-each.js';

const orders = {
  alice100: {
    userId: 1,
    amount: '100.00',
    currency: 'USD',
    requestHash: 'a'.repeat(64),
  } satisfies NewTransaction,
  becky5: {
    userId: 2,
    amount: '5.25',
    currency: 'EUR',
    requestHash: 'b'.repeat(64),
  } satisfies NewTransaction,
};

/** A stand-in for the psp role: answers each order with `answer`, counting deliveries per transaction id. */
class FakePsp {
  readonly deliveries = new Map<string, number>();
  answer: (order: PaymentOrder) => Promise<void> = async () => undefined;

  readonly client = {
    process: async (order: PaymentOrder): Promise<PaymentReceipt> => {
      this.deliveries.set(order.id, (this.deliveries.get(order.id) ?? 0) + 1);
      await this.answer(order);
      return { id: order.id, duplicate: false };
    },
  } as unknown as PspClient;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe(OutboxDispatcher.name, () => {
  let db: TestSchema;
  let transactions: TransactionsRepository;
  let outbox: OutboxRepository;
  let psp: FakePsp;

  const dispatcher = (settings: Record<string, unknown> = {}) =>
    new OutboxDispatcher(
      outbox,
      psp.client,
      new Random(),
      testBoot([[transactionSettings, { leaseMs: 10_000, retryMinMs: 60_000, pollMs: 20, ...settings }]]),
    );
  const statusOf = async (id: string) =>
    (await db.dataSource.query('SELECT status, failure_reason FROM transactions WHERE id = $1', [id]))[0];

  /** The psp takes `ms` per order from now on; the getter tells the most deliveries it had in flight at once. */
  const slowPsp = (ms: number) => {
    let inFlight = 0;
    let most = 0;
    psp.answer = async () => {
      most = Math.max(most, ++inFlight);
      await sleep(ms);
      inFlight--;
    };
    return () => most;
  };
  const drained = () => waitFor(async () => (await outbox.backlog()) === 0, 'the outbox to drain');

  beforeEach(async () => {
    db = await openTestSchema({
      entities: [TransactionEntity, OutboxRecordEntity],
      migrations: [CreateTransactions1764100000100, OutboxTraceparent1765100000100],
    });
    transactions = new TransactionsRepository(db.dataSource);
    outbox = new OutboxRepository(db.dataSource);
    psp = new FakePsp();
  });
  afterEach(() => db.drop());

  it('writes the transaction and its exact payment order together', async () => {
    const { transaction } = await transactions.create(orders.alice100);
    expect(transaction.status).toBe('pending');
    const [claimed] = await outbox.claim(10, 1000);
    expect(claimed).toMatchObject({
      transactionId: transaction.id,
      attempts: 1,
      payload: { id: transaction.id, user_id: 1, amount: '100.00', currency: 'USD' },
    });
  });

  it('answers a reused idempotency key with the stored transaction and writes nothing', async () => {
    const first = await transactions.create({ ...orders.alice100, idempotencyKey: 'k1' });
    const again = await transactions.create({ ...orders.alice100, idempotencyKey: 'k1' });
    expect(again).toEqual({ created: false, transaction: first.transaction });
    expect(await outbox.backlog()).toBe(1);
  });

  it('completes a transaction once the psp acknowledges it and empties the outbox', async () => {
    const { transaction } = await transactions.create(orders.alice100);
    expect(await dispatcher().dispatchBatch()).toBe(1);
    expect(await statusOf(transaction.id)).toEqual({ status: 'completed', failure_reason: null });
    expect(await outbox.backlog()).toBe(0);
  });

  it('keeps a transaction pending and schedules a retry while the psp is unavailable', async () => {
    const { transaction } = await transactions.create(orders.alice100);
    psp.answer = async () => {
      throw new AppError(503, 'peer_unavailable', 'psp is unavailable: connection refused');
    };
    const d = dispatcher();
    await d.dispatchBatch();
    expect(await statusOf(transaction.id)).toEqual({ status: 'pending', failure_reason: null });
    const [row] = await db.dataSource.query(
      'SELECT attempts, claimed_until, last_error FROM transaction_outbox',
    );
    expect(row).toEqual({
      attempts: 1,
      claimed_until: null,
      last_error: 'peer_unavailable: psp is unavailable: connection refused',
    });
    expect(await d.dispatchBatch()).toBe(0);
  });

  it('fails a transaction with the reason when the psp refuses it for good', async () => {
    const { transaction } = await transactions.create(orders.alice100);
    psp.answer = async () => {
      throw new AppError(422, 'invalid_amount', 'Amount must be greater than 0');
    };
    await dispatcher().dispatchBatch();
    expect(await statusOf(transaction.id)).toEqual({
      status: 'failed',
      failure_reason: 'Amount must be greater than 0',
    });
    expect(await outbox.backlog()).toBe(0);
  });

  it('never hands the same record to two dispatchers at once', async () => {
    for (let i = 0; i < 20; i++) await transactions.create(i % 2 ? orders.alice100 : orders.becky5);
    psp.answer = () => sleep(20);
    const [a, b] = [dispatcher({ batchSize: 5 }), dispatcher({ batchSize: 5 })];
    const drain = async (d: OutboxDispatcher) => {
      while ((await d.dispatchBatch()) > 0);
    };
    await Promise.all([drain(a), drain(b)]);
    expect(psp.deliveries.size).toBe(20);
    expectEach(Object.fromEntries(psp.deliveries), (n) => n === 1, 'each record delivered once');
  });

  it('drains a backlog of several batches with rounds running at once, each record delivered once', async () => {
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => transactions.create(i % 2 ? orders.alice100 : orders.becky5)),
    );
    const mostInFlight = slowPsp(30);
    const d = dispatcher({ batchSize: 5, concurrency: 4 });
    d.onApplicationBootstrap();
    await drained();
    await d.onApplicationShutdown();
    expect(psp.deliveries.size).toBe(40);
    expectEach(Object.fromEntries(psp.deliveries), (n) => n === 1, 'each record delivered once');
    // One round delivers at most a batch at a time; more than that means rounds overlapped.
    expect(mostInFlight()).toBeGreaterThan(5);
    expect(mostInFlight()).toBeLessThanOrEqual(20);
  });

  it('keeps to one round at a time while no round comes back full', async () => {
    await Promise.all(Array.from({ length: 3 }, () => transactions.create(orders.alice100)));
    const mostInFlight = slowPsp(20);
    const d = dispatcher({ batchSize: 5, concurrency: 4 });
    d.onApplicationBootstrap();
    await drained();
    for (let i = 0; i < 3; i++) {
      await transactions.create(orders.becky5);
      d.poke();
    }
    await drained();
    await d.onApplicationShutdown();
    expect(psp.deliveries.size).toBe(6);
    expect(mostInFlight()).toBeLessThanOrEqual(5);
  });

  it("takes over a claim whose lease has expired, as after a replica's crash, but not a live one", async () => {
    const { transaction } = await transactions.create(orders.alice100);
    await outbox.claim(10, 60_000);
    expect(await dispatcher().dispatchBatch()).toBe(0);
    await db.dataSource.query(`UPDATE transaction_outbox SET claimed_until = now() - interval '1 second'`);
    expect(await dispatcher().dispatchBatch()).toBe(1);
    expect((await statusOf(transaction.id)).status).toBe('completed');
  });

  it('finishes the batch in flight when the application shuts down', async () => {
    const { transaction } = await transactions.create(orders.alice100);
    let started!: () => void;
    const delivering = new Promise<void>((r) => (started = r));
    psp.answer = async () => {
      started();
      await sleep(100);
    };
    const d = dispatcher();
    d.onApplicationBootstrap();
    d.poke();
    await delivering;
    await d.onApplicationShutdown();
    expect((await statusOf(transaction.id)).status).toBe('completed');
  });
});
