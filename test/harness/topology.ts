// The one way tests start a topology: any set of roles as real OS processes on loopback, each with its own env,
// wired to each other through <ROLE>_ADDR; waits for readiness, captures logs, stops with SIGTERM and reports
// exit codes. `single` = one ROLE=all process; `multi` = one process per role.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { readFileSync, rmSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { ALL_ROLES, ROLE_TABLE, type RoleName } from '../../src/roles/role-table.js';
import { makeCa, makeRoleCert, type KeyPair } from '../../src/roles/certs/role-certs.js';
import { freshDatabase } from './database.js';
import { freePort } from './ports.js';
import { tempDir } from './temp-dir.js';

export const ROOT = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');
export const MAIN = resolve(ROOT, 'dist/main.js');
/** What every role process started here inherits: the run's temporary directory, so what it makes there counts. */
const BASE_ENV = {
  PATH: process.env.PATH ?? '',
  ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
};

/** Runs `node dist/main.js` with only PATH and `env` to its exit (a boot that must fail, or a job). */
export function boot(env: Record<string, string>) {
  return spawnSync(process.execPath, [MAIN], {
    cwd: ROOT,
    env: { ...BASE_ENV, ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
}

/**
 * TEST_RPC_TLS=mutual runs every topology with mutual TLS: one CA per test file, and each process presents a
 * certificate naming exactly the roles it runs (its children get one naming role child).
 */
export const MUTUAL_TLS = process.env.TEST_RPC_TLS === 'mutual';
let testCa: { dir: string; ca: KeyPair } | undefined;
let certsMade = 0;
// Processes read their certificates at boot, so the directory can go once the file's tests are over.
afterAll(() => {
  if (testCa) rmSync(testCa.dir, { recursive: true, force: true });
  testCa = undefined;
});

function testCert(name: string, roles: readonly string[]): { ca: KeyPair; pair: KeyPair } {
  if (!testCa) {
    const dir = tempDir('test-ca');
    testCa = { dir, ca: makeCa(dir) };
  }
  return { ca: testCa.ca, pair: makeRoleCert(testCa.dir, testCa.ca, `${name}-${++certsMade}`, roles) };
}

/**
 * The TLS options a test's own Nest TCP client presents under TEST_RPC_TLS=mutual (or always, with `force`, to
 * call a production topology): a certificate naming `role`, signed by the CA the topology's processes trust.
 */
export function testClientTls(role: string, force = false): ConnectionOptions | undefined {
  if (!MUTUAL_TLS && !force) return undefined;
  const { ca, pair } = testCert(`test-${role}`, [role]);
  return {
    ca: readFileSync(ca.cert),
    cert: readFileSync(pair.cert),
    key: readFileSync(pair.key),
    checkServerIdentity: () => undefined,
  };
}

function mutualTlsEnv(role: string, name: string): Record<string, string> {
  const roles = role === 'all' ? ALL_ROLES : role.split(',').map((r) => r.trim());
  const { ca, pair: own } = testCert(name, roles);
  const { pair: child } = testCert(`${name}-child`, ['child']);
  return {
    RPC_TLS: 'mutual',
    RPC_TLS_CA: ca.cert,
    RPC_TLS_CERT: own.cert,
    RPC_TLS_KEY: own.key,
    MASTER_CHILD_TLS_CERT: child.cert,
    MASTER_CHILD_TLS_KEY: child.key,
  };
}

export type TopologyKind = 'single' | 'multi';
export const TOPOLOGIES: TopologyKind[] = ['single', 'multi'];

export interface ProcessSpec {
  /** Name used to look the process up; defaults to the role. */
  name?: string;
  /** ROLE value: one role, a comma list, or `all`. */
  role: string;
  env?: Record<string, string>;
  /** Wait for /health/ready (default) or only for /health/live (roles whose peers are meant to be down). */
  waitFor?: 'ready' | 'live' | 'none';
}

export interface LogLine {
  level?: string;
  msg?: string;
  requestId?: string;
  [key: string]: unknown;
}

export class RoleProcess {
  readonly output: string[] = [];
  child?: ChildProcess;
  exitCode: number | null = null;
  private exited?: Promise<number | null>;

  constructor(
    readonly name: string,
    readonly role: string,
    readonly env: Record<string, string>,
    readonly httpPort: number,
    readonly tcpPort: number,
    /** The raw TCP echo port (ECHO_PORT) when the process hosts echo-server. */
    readonly echoPort: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  start(): void {
    this.exitCode = null;
    const child = spawn(process.execPath, [MAIN], {
      cwd: ROOT,
      env: { ...BASE_ENV, HOME: process.env.HOME ?? '/tmp', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let pending = '';
    const onData = (buf: Buffer) => {
      pending += buf.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      this.output.push(...lines.filter(Boolean));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    this.exited = new Promise((done) =>
      child.on('exit', (code) => {
        if (pending) this.output.push(pending);
        this.exitCode = code;
        done(code);
      }),
    );
  }

  /** Parsed JSON log lines (non-JSON lines are skipped). */
  logs(): LogLine[] {
    return this.output.flatMap((l) => {
      try {
        return [JSON.parse(l) as LogLine];
      } catch {
        return [];
      }
    });
  }

  async waitForLog(test: (l: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.logs().find(test);
      if (hit) return hit;
      if (Date.now() > deadline)
        throw new Error(`${this.name}: log line not seen in ${timeoutMs} ms\n${this.tail()}`);
      await sleep(50);
    }
  }

  tail(n = 30): string {
    return this.output.slice(-n).join('\n');
  }

  async waitUntil(probe: 'ready' | 'live', timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.exitCode !== null)
        throw new Error(`${this.name} exited with ${this.exitCode}\n${this.tail()}`);
      try {
        const res = await fetch(`${this.url}/health/${probe}`, { signal: AbortSignal.timeout(2000) });
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline)
        throw new Error(`${this.name} not ${probe} after ${timeoutMs} ms\n${this.tail()}`);
      await sleep(100);
    }
  }

  /** Resolves with the exit code once the process has exited. */
  wait(): Promise<number | null> {
    return this.exited ?? Promise.resolve(this.exitCode);
  }

  signal(sig: NodeJS.Signals): void {
    if (this.child && this.exitCode === null) this.child.kill(sig);
  }

  /** SIGTERM and wait; SIGKILL after the timeout (reported as null). */
  async stop(timeoutMs = 15_000): Promise<number | null> {
    if (!this.child || this.exitCode !== null) return this.exitCode;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), timeoutMs);
    const code = await this.wait();
    clearTimeout(timer);
    return code;
  }

  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await this.wait();
  }

  async restart(probe: 'ready' | 'live' = 'ready'): Promise<void> {
    if (this.exitCode === null && this.child) await this.stop();
    this.output.push('--- restart ---');
    this.start();
    await this.waitUntil(probe);
  }
}

export interface TopologyOptions {
  /** Env given to every process (after the harness defaults). */
  env?: Record<string, string>;
  /** Use this database instead of a fresh one. */
  databaseUrl?: string;
  /** Extra TCP addresses for a role, e.g. two replicas behind one peer setting. */
  /** How long each process may take to become ready (default 30 s); big topologies boot slower on a busy machine. */
  readyTimeoutMs?: number;
}

export class Topology {
  readonly processes = new Map<string, RoleProcess>();

  private constructor(readonly databaseUrl: string) {}

  static async start(specs: ProcessSpec[], opts: TopologyOptions = {}): Promise<Topology> {
    const databaseUrl = opts.databaseUrl ?? (await freshDatabase());
    const topo = new Topology(databaseUrl);
    const ports = await Promise.all(
      specs.map(async () => ({
        http: await freePort(),
        tcp: await freePort(),
        echo: await freePort(),
        grpc: await freePort(),
      })),
    );
    // Every role a process hosts is reachable at that process's TCP port.
    const peerEnv: Record<string, string> = {};
    specs.forEach((spec, i) => {
      const roles = spec.role === 'all' ? Object.keys(ROLE_TABLE) : spec.role.split(',');
      for (const r of roles)
        peerEnv[`${r.toUpperCase().replace(/-/g, '_')}_ADDR`] = `127.0.0.1:${ports[i].tcp}`;
    });
    const httpUrls = ports.map((p) => `http://127.0.0.1:${p.http}`);
    specs.forEach((spec, i) => {
      const name = spec.name ?? spec.role;
      // Each process's console reads the others (compose and Kubernetes find them by service name instead).
      const others = httpUrls.filter((_, j) => j !== i);
      const env: Record<string, string> = {
        LOG_LEVEL: 'info',
        NODE_ENV: 'test',
        HTTP_HOST: '127.0.0.1',
        TCP_HOST: '127.0.0.1',
        DATABASE_URL: databaseUrl,
        SHUTDOWN_GRACE_MS: '10000',
        RPC_TIMEOUT_MS: '2000',
        // Its own echo and gRPC ports, so processes hosting echo-server or calculator (ROLE=all too) never fight over
        // 12345 or 50051.
        ECHO_PORT: String(ports[i].echo),
        GRPC_PORT: String(ports[i].grpc),
        ...peerEnv,
        ...(MUTUAL_TLS ? mutualTlsEnv(spec.role, name) : {}),
        ...(others.length > 0 ? { CONSOLE_TARGETS: others.join(',') } : {}),
        ...opts.env,
        ...spec.env,
        ROLE: spec.role,
        HTTP_PORT: String(ports[i].http),
        TCP_PORT: String(ports[i].tcp),
      };
      // Production wants mutual TLS on Nest TCP (or the explicit insecure setting): as compose and Kubernetes ship
      // it, a production process gets the test CA's certificates unless its env chose otherwise.
      const production =
        env.NODE_ENV === 'production' && !('RPC_TLS' in env) && !('RPC_INSECURE_PLAINTEXT' in env);
      if (production) Object.assign(env, mutualTlsEnv(spec.role, name));
      topo.processes.set(
        name,
        new RoleProcess(name, spec.role, env, ports[i].http, ports[i].tcp, Number(env.ECHO_PORT)),
      );
    });
    for (const p of topo.processes.values()) p.start();
    try {
      await Promise.all(
        specs.map((spec, i) => {
          const p = [...topo.processes.values()][i];
          return spec.waitFor === 'none'
            ? undefined
            : p.waitUntil(spec.waitFor ?? 'ready', opts.readyTimeoutMs);
        }),
      );
    } catch (err) {
      await topo.stop();
      throw err;
    }
    return topo;
  }

  /** Starts the roles as `single` (one ROLE=all process) or `multi` (one process per listed role). */
  static startKind(kind: TopologyKind, roles: RoleName[], opts: TopologyOptions = {}): Promise<Topology> {
    return kind === 'single'
      ? Topology.start([{ name: 'all', role: 'all' }], opts)
      : Topology.start(
          roles.map((role) => ({ role })),
          opts,
        );
  }

  get(name: string): RoleProcess {
    const p = this.processes.get(name);
    if (!p) throw new Error(`no process named ${name}`);
    return p;
  }

  /** The process that serves a role: itself in multi, the `all` process in single. */
  host(role: RoleName): RoleProcess {
    return this.processes.get(role) ?? this.get('all');
  }

  /** SIGTERM to every process; resolves with each exit code. */
  async stop(): Promise<Record<string, number | null>> {
    const codes: Record<string, number | null> = {};
    await Promise.all([...this.processes.values()].map(async (p) => (codes[p.name] = await p.stop())));
    return codes;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
