import { openTestSchema, type TestSchema } from '../../../test/harness/database.js';
import { testBoot } from '../../../test/harness/test-boot.js';
import { CreateProcessedPayments1764100000200 } from './migrations/1764100000200-create-processed-payments.js';
import { ProcessedPaymentEntity } from './processed-payment.entity.js';
import { PspService } from './psp.service.js';
import { pspSettings } from './psp.settings.js';

const orders = {
  alice100: { id: '6f9619ff-8b86-4d11-b42d-00c04fc964ff', user_id: 1, amount: '100.00', currency: 'USD' },
  zero: { id: '7a9619ff-8b86-4d11-b42d-00c04fc964ff', user_id: 1, amount: '0.00', currency: 'USD' },
};

describe(PspService.name, () => {
  let db: TestSchema;
  let psp: PspService;

  beforeEach(async () => {
    db = await openTestSchema({
      entities: [ProcessedPaymentEntity],
      migrations: [CreateProcessedPayments1764100000200],
    });
    psp = new PspService(db.dataSource, testBoot([[pspSettings, {}]]));
  });
  afterEach(() => db.drop());

  it('pays an order and records it', async () => {
    expect(await psp.process(orders.alice100)).toEqual({ id: orders.alice100.id, duplicate: false });
    const rows = await db.dataSource.query(
      'SELECT transaction_id, user_id, amount, currency FROM processed_payments',
    );
    expect(rows).toEqual([
      { transaction_id: orders.alice100.id, user_id: 1, amount: '100.00', currency: 'USD' },
    ]);
  });

  it('acknowledges a redelivered order without paying again', async () => {
    await psp.process(orders.alice100);
    expect(await psp.process(orders.alice100)).toEqual({ id: orders.alice100.id, duplicate: true });
    expect(await db.dataSource.query('SELECT count(*)::int AS n FROM processed_payments')).toEqual([
      { n: 1 },
    ]);
  });

  it('pays once when the same order arrives twice at the same time', async () => {
    const receipts = await Promise.all([psp.process(orders.alice100), psp.process(orders.alice100)]);
    expect(receipts.map((r) => r.duplicate).sort()).toEqual([false, true]);
  });

  it('pays a batch arriving together once each, in one go, and acknowledges the repeats', async () => {
    const ids = Array.from(
      { length: 20 },
      (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    );
    const orders_ = ids.map((id) => ({ ...orders.alice100, id }));
    const receipts = await Promise.all([...orders_, ...orders_.slice(0, 5)].map((o) => psp.process(o)));
    expect(receipts.filter((r) => !r.duplicate).map((r) => r.id)).toEqual(ids);
    expect(receipts.filter((r) => r.duplicate)).toHaveLength(5);
    expect(await db.dataSource.query('SELECT count(*)::int AS n FROM processed_payments')).toEqual([
      { n: 20 },
    ]);
  });

  it('refuses a zero amount for good (422)', async () => {
    await expect(psp.process(orders.zero)).rejects.toMatchObject({ status: 422 });
  });
});
