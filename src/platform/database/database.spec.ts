import type { MigrationInterface, QueryRunner } from 'typeorm';
import { freshDatabase, query } from '../../../test/harness/database.js';
import { createDataSource, openDatabase } from './database.js';

class CreateWidgets1700000000000 implements MigrationInterface {
  name = 'CreateWidgets1700000000000';
  async up(q: QueryRunner): Promise<void> {
    await q.query('CREATE TABLE widgets (id serial PRIMARY KEY, name text NOT NULL)');
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE widgets');
  }
}

describe(openDatabase.name, () => {
  it("runs a role's pending migrations once, and only once", async () => {
    const url = await freshDatabase('migrations');
    const open = async () => {
      const ds = createDataSource({
        url,
        entities: [],
        migrations: [CreateWidgets1700000000000],
        applicationName: 'spec',
      });
      try {
        return await openDatabase(ds);
      } finally {
        await ds.destroy();
      }
    };
    expect(await open()).toEqual(['CreateWidgets1700000000000']);
    expect(await open()).toEqual([]);
    expect(await query(url, "SELECT to_regclass('widgets') AS t")).toEqual([{ t: 'widgets' }]);
  });

  it('lets replicas that boot together run the migrations without a race', async () => {
    const url = await freshDatabase('migrations');
    const sources = [1, 2, 3].map(() =>
      createDataSource({
        url,
        entities: [],
        migrations: [CreateWidgets1700000000000],
        applicationName: 'spec',
      }),
    );
    try {
      const ran = await Promise.all(sources.map((ds) => openDatabase(ds)));
      expect(ran.flat()).toEqual(['CreateWidgets1700000000000']);
    } finally {
      await Promise.all(sources.map((ds) => ds.destroy()));
    }
  });
});
