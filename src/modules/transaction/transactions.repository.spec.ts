import { openTestSchema, type TestSchema } from '../../../test/harness/database.js';
import { CreateTransactions1764100000100 } from './migrations/1764100000100-create-transactions.js';
import { OutboxTraceparent1765100000100 } from './migrations/1765100000100-outbox-traceparent.js';
import { OutboxRecordEntity } from './outbox-record.entity.js';
import { TransactionEntity } from './transaction.entity.js';
import { TransactionsRepository, type NewTransaction } from './transactions.repository.js';
import { expectEach } from '../../../test/harness/expect-each.js';

const order = (i: number): NewTransaction => ({
  userId: 1 + (i % 3),
  amount: `${i + 1}.50`,
  currency: 'USD',
  requestHash: String(i).padStart(64, '0'),
  requestId: `req-${i}`,
});

describe(TransactionsRepository.name, () => {
  let db: TestSchema;
  let transactions: TransactionsRepository;

  beforeEach(async () => {
    db = await openTestSchema({
      entities: [TransactionEntity, OutboxRecordEntity],
      migrations: [CreateTransactions1764100000100, OutboxTraceparent1765100000100],
    });
    transactions = new TransactionsRepository(db.dataSource);
  });
  afterEach(() => db.drop());

  it('writes transactions arriving together in one database transaction, each with its own outbox record', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => transactions.create(order(i))));
    expectEach(results, (r) => r.created, 'each transaction created');
    expect(results.map((r) => [r.transaction.userId, r.transaction.amount])).toEqual(
      Array.from({ length: 20 }, (_, i) => [order(i).userId, order(i).amount]),
    );
    expect(new Set(results.map((r) => r.transaction.id)).size).toBe(20);
    // Rows written by one statement share the inserting transaction's id.
    const [{ commits }] = await db.dataSource.query(
      'SELECT count(DISTINCT xmin::text)::int AS commits FROM transactions',
    );
    expect(commits).toBe(1);
    const outbox: Array<{ transaction_id: string; request_id: string }> = await db.dataSource.query(
      'SELECT transaction_id, request_id FROM transaction_outbox ORDER BY id',
    );
    expect(outbox).toEqual(
      results.map((r, i) => ({ transaction_id: r.transaction.id, request_id: `req-${i}` })),
    );
  });

  it('answers a second use of an idempotency key in the same statement with the first one’s transaction', async () => {
    const keyed = { ...order(0), idempotencyKey: 'same-key' };
    const [a, b] = await Promise.all([transactions.create(keyed), transactions.create(keyed)]);
    expect([a.created, b.created]).toEqual([true, false]);
    expect(b.transaction).toEqual(a.transaction);
    const [{ n }] = await db.dataSource.query('SELECT count(*)::int AS n FROM transaction_outbox');
    expect(n).toBe(1);
  });

  it('refuses only the transaction the database refuses, writing the others of its batch', async () => {
    const tooLarge = { ...order(1), amount: '1000000000000000.00' };
    const [ok1, bad, ok2] = await Promise.allSettled([
      transactions.create(order(0)),
      transactions.create(tooLarge),
      transactions.create(order(2)),
    ]);
    expect([ok1.status, bad.status, ok2.status]).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const [{ n }] = await db.dataSource.query('SELECT count(*)::int AS n FROM transactions');
    expect(n).toBe(2);
  });
});
