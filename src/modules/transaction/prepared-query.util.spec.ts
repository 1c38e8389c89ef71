import { openTestSchema, type TestSchema } from '../../../test/harness/database.js';
import { preparedQuery } from './prepared-query.util.js';

describe(preparedQuery.name, () => {
  let db: TestSchema;

  beforeEach(async () => {
    db = await openTestSchema({ entities: [], migrations: [] });
  });
  afterEach(() => db.drop());

  it('runs a named statement with its values and gives its rows', async () => {
    const rows = await preparedQuery<{ sum: number }>(
      db.dataSource,
      'spec.sum',
      'SELECT $1::int + $2::int AS sum',
      [2, 3],
    );
    expect(rows).toEqual([{ sum: 5 }]);
  });

  it('gives its connection back to the pool after each call, failed or not', async () => {
    // Far more calls than the pool has connections: a connection kept by any call would stall the ones after it.
    for (let i = 0; i < 40; i++) {
      await preparedQuery(db.dataSource, 'spec.one', 'SELECT $1::int AS one', [i]);
      await expect(preparedQuery(db.dataSource, 'spec.bad', 'SELECT 1/$1::int', [0])).rejects.toThrow(
        /division by zero/,
      );
    }
  });
});
