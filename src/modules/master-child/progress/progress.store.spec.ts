import type { DataSource } from 'typeorm';
import { createReopenableSchema, type ReopenableSchema } from '../../../../test/harness/database.js';
import { PROGRESS_MIGRATIONS } from './migrations/1763794000000-master-progress.migration.js';
import { PROGRESS_ENTITIES } from './progress.entity.js';
import type { ReportBatch } from '../contract.js';
import { percentageOf, ProgressStore } from './progress.store.js';

const range = { min: 100, max: 140 };
// Small chunks so the fixture spans several chunks (40 numbers / 16 per chunk = 3 chunks).
const options = { range, chunkBytes: 2 };

const batches = {
  first: { childId: 'alpha', seq: 0, numbers: [100, 101, 102, 101, 139] } as ReportBatch,
  second: { childId: 'alpha', seq: 1, numbers: [102, 120, 140, 99, 125] } as ReportBatch,
  other: { childId: 'beta', seq: 0, numbers: [120, 121, 1.5, 130] } as ReportBatch,
};
// 100,101,102,139 | 120,125 | 121,130 are new: 8 unique; 101,102,120 repeat: 3 duplicates; 140,99,1.5 rejected.
const expected = { uniqueNumbers: 8, duplicates: 3, rejected: 3, received: 14, batches: 3 };

describe(ProgressStore.name, () => {
  let db: ReopenableSchema;
  let ds: DataSource;

  beforeEach(async () => {
    db = await createReopenableSchema(
      { entities: PROGRESS_ENTITIES, migrations: PROGRESS_MIGRATIONS },
      'mc_spec',
    );
    ds = await db.connect();
  });
  afterEach(async () => {
    await db.dispose();
  });

  async function loadedStore(
    source = ds,
    extra: Partial<ConstructorParameters<typeof ProgressStore>[1]> = {},
  ) {
    const store = new ProgressStore(source, { ...options, ...extra });
    await store.load();
    return store;
  }

  it('counts unique numbers, duplicates and rejected numbers exactly', async () => {
    const store = await loadedStore();
    for (const b of Object.values(batches)) await store.ingest(b);
    expect(store.snapshot()).toEqual({ ...expected, percentage: 20, range });
  });

  it('reports the percentage to 6 decimals and the unique count exactly', async () => {
    const store = await loadedStore(ds, { range: { min: 0, max: 3 } });
    await store.ingest({ childId: 'alpha', seq: 0, numbers: [1, 1] });
    expect(store.snapshot()).toMatchObject({ uniqueNumbers: 1, duplicates: 1, percentage: 33.333333 });
  });

  it('rounds the percentage that floating point would print as 0.04998999999999999', () => {
    expect((4999 / 10_000_000) * 100).toBe(0.04998999999999999);
    expect(percentageOf(4999, 10_000_000)).toBe(0.04999);
    expect(percentageOf(10_000_000, 10_000_000)).toBe(100);
  });

  it('acknowledges each batch with what it added', async () => {
    const store = await loadedStore();
    await store.ingest(batches.first);
    await expect(store.ingest(batches.second)).resolves.toEqual({
      childId: 'alpha',
      seq: 1,
      replayed: false,
      unique: 2,
      duplicates: 1,
      rejected: 2,
    });
  });

  it('commits batches that arrive together and counts them the same', async () => {
    const store = await loadedStore();
    await Promise.all(Object.values(batches).map((b) => store.ingest(b)));
    expect(store.snapshot()).toMatchObject(expected);
  });

  it('does not count a retried batch twice', async () => {
    const store = await loadedStore();
    await store.ingest(batches.first);
    const replay = await store.ingest({ ...batches.first, numbers: [110, 111] });
    expect(replay).toMatchObject({ replayed: true, unique: 0 });
    expect(store.snapshot()).toMatchObject({ uniqueNumbers: 4, received: 5, duplicates: 1, batches: 1 });
  });

  it('does not count a batch twice when the retry arrives while the first copy is being committed', async () => {
    const store = await loadedStore();
    const [a, b] = await Promise.all([store.ingest(batches.first), store.ingest(batches.first)]);
    expect([a.replayed, b.replayed]).toEqual([false, true]);
    expect(store.snapshot()).toMatchObject({ uniqueNumbers: 4, received: 5 });
  });

  it('keeps per-child totals', async () => {
    const store = await loadedStore();
    for (const b of Object.values(batches)) await store.ingest(b);
    expect(store.childProgress('alpha')).toEqual({
      batches: 2,
      received: 10,
      unique: 6,
      duplicates: 2,
      rejected: 2,
    });
  });

  it('finds the same progress after a restart, including which batches it has seen', async () => {
    const first = await loadedStore();
    for (const b of Object.values(batches)) await first.ingest(b);
    await ds.destroy();

    const restarted = await loadedStore(await db.connect());
    expect(restarted.snapshot()).toEqual(first.snapshot());
    expect(restarted.childProgress('beta')).toEqual(first.childProgress('beta'));
    await expect(restarted.ingest(batches.second)).resolves.toMatchObject({ replayed: true });
    await expect(restarted.ingest({ childId: 'gamma', seq: 0, numbers: [100, 103] })).resolves.toMatchObject({
      unique: 1,
      duplicates: 1,
    });
  });

  it('finds the same progress after a restart when the numbers were folded into the chunks as it went', async () => {
    const first = await loadedStore(ds, { checkpointBytes: 8 });
    for (const b of Object.values(batches)) await first.ingest(b);
    await ds.destroy();

    const restarted = await loadedStore(await db.connect());
    expect(restarted.snapshot()).toEqual(first.snapshot());
    for (let n = range.min; n < range.max; n++) expect(restarted.has(n)).toBe(first.has(n));
  });

  it('empties the log on an explicit checkpoint and keeps the progress', async () => {
    const first = await loadedStore();
    for (const b of Object.values(batches)) await first.ingest(b);
    await first.checkpoint();
    expect(await ds.query('SELECT count(*)::int AS n FROM master_progress_log')).toEqual([{ n: 0 }]);

    const restarted = await loadedStore(await db.connect());
    expect(restarted.snapshot()).toEqual(first.snapshot());
  });

  it('refuses to write once another master has loaded the progress', async () => {
    const old = await loadedStore();
    await old.ingest(batches.first);
    const newer = await loadedStore(await db.connect());
    await expect(old.ingest(batches.second)).rejects.toMatchObject({ code: 'progress_owner_changed' });
    expect(old.snapshot().uniqueNumbers).toBe(4);
    await newer.ingest(batches.second);
    expect(newer.snapshot()).toMatchObject({ uniqueNumbers: 6, received: 10 });
  });

  it('rolls the mirror back and fails the batch when the database is unreachable', async () => {
    const store = await loadedStore();
    await store.ingest(batches.first);
    await ds.destroy();
    await expect(store.ingest(batches.other)).rejects.toMatchObject({
      status: 503,
      code: 'progress_unavailable',
    });
    expect(store.has(121)).toBe(false);
    expect(store.snapshot()).toMatchObject({ uniqueNumbers: 4, received: 5 });
  });

  it('refuses progress recorded for another range unless told to start over', async () => {
    const store = await loadedStore();
    await store.ingest(batches.first);
    await expect(loadedStore(ds, { range: { min: 0, max: 10 } })).rejects.toMatchObject({
      code: 'progress_range_mismatch',
    });
    const fresh = await loadedStore(ds, { range: { min: 0, max: 10 }, onRangeMismatch: 'reset' });
    expect(fresh.snapshot()).toMatchObject({ uniqueNumbers: 0, received: 0, range: { min: 0, max: 10 } });
  });

  it('rejects a malformed batch as a bad request', async () => {
    const store = await loadedStore();
    await expect(store.ingest({ childId: '', seq: 0, numbers: [] })).rejects.toMatchObject({ status: 400 });
    await expect(store.ingest({ childId: 'a', seq: -1, numbers: [] })).rejects.toMatchObject({ status: 400 });
    await expect(store.ingest({ childId: 'a', seq: 0, numbers: 'x' as never })).rejects.toMatchObject({
      status: 400,
    });
  });
});
