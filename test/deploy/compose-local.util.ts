// `npm run compose:local` as the deploy suites use it: the compiled runner started as a process on free ports,
// its control interface, and its graceful stop. Runs the build's dist/ and dist-tools/ (`npm test` makes both).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceStatus } from '../../docker/compose-local/service-process.js';
import type { TopologyStatus } from '../../docker/compose-local/compose-local.js';
import { ROLE_TABLE, type RoleName } from '../../src/roles/role-table.js';
import { repoRoot } from './deploy-files.util.js';

/** The operator's token (CONSOLE_TOKEN) of every run: starting children through /master wants it. */
export const OPERATOR_TOKEN = randomBytes(33).toString('base64url');

export const RUNNER = join(repoRoot, 'dist-tools/docker/compose-local/main.js');
const READY = 'compose:local ready ';
const STOPPED = 'compose:local stopped ';

export interface ReadyInfo {
  gateway: number;
  admin: number;
  published: Record<string, Record<string, number>>;
}

export class ComposeLocalRun {
  readonly output: string[] = [];
  info!: ReadyInfo;
  exitCode: number | null = null;
  stoppedCodes?: Record<string, number | null>;
  private exited!: Promise<number | null>;

  private constructor(
    private readonly child: ChildProcess,
    readonly work: string,
  ) {}

  /** Starts the runner (free ports, a fresh data directory) and waits for its ready line. */
  static async start(timeoutMs = 150_000): Promise<ComposeLocalRun> {
    if (!existsSync(RUNNER)) throw new Error(`${RUNNER} is missing: run \`npm run build:tools\``);
    const work = mkdtempSync(join(tmpdir(), 'polyrole-compose-local-'));
    const envFile = join(work, 'empty.env');
    writeFileSync(envFile, '');
    const child = spawn(
      process.execPath,
      [
        RUNNER,
        '--free-ports',
        '--env-file',
        envFile,
        '--data-dir',
        join(work, 'postgres'),
        '--logs-dir',
        join(work, 'logs'),
      ],
      {
        cwd: repoRoot,
        // Only what compose would interpolate from: a developer's environment must not change the topology.
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '/tmp',
          // The run's own temporary directory: where the embedded PostgreSQL relocates a data directory its user
          // cannot reach (under root), so the run removes it instead of leaving it in the system's.
          ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
          // NODE_ENV=production in compose: auth wants at least 32 bytes, and seeds alice only when asked.
          JWT_SECRET: randomBytes(48).toString('base64'),
          POSTGRES_PASSWORD: randomBytes(18).toString('base64url'),
          // Starting children wants the operator's token in production.
          CONSOLE_TOKEN: OPERATOR_TOKEN,
          AUTH_SEED_DEMO_USERS: 'true',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const run = new ComposeLocalRun(child, work);
    let pending = '';
    const onData = (buf: Buffer) => {
      pending += buf.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      run.output.push(...lines);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    run.exited = new Promise((done) =>
      child.on('exit', (code) => {
        if (pending) run.output.push(pending);
        run.exitCode = code;
        done(code);
      }),
    );
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = run.output.find((l) => l.startsWith(READY));
      if (line) {
        run.info = JSON.parse(line.slice(READY.length)) as ReadyInfo;
        return run;
      }
      if (run.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGTERM');
        await run.exited;
        throw new Error(`compose:local did not become ready (exit ${run.exitCode}):\n${run.tail()}`);
      }
      await sleep(100);
    }
  }

  get gatewayUrl(): string {
    return `http://127.0.0.1:${this.info.gateway}`;
  }

  published(service: string, containerPort: number): number {
    const port = this.info.published[service]?.[containerPort];
    if (!port) throw new Error(`${service}:${containerPort} is not published`);
    return port;
  }

  tail(n = 60): string {
    return this.output.slice(-n).join('\n');
  }

  /** A service's own output (its log file), as parsed JSON lines. */
  logs(service: string): Array<Record<string, unknown>> {
    const file = join(this.work, 'logs', `${service}.log`);
    if (!existsSync(file)) return [];
    return readFileSync(file, 'utf8')
      .split('\n')
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  }

  async status(): Promise<TopologyStatus> {
    const res = await fetch(`http://127.0.0.1:${this.info.admin}/status`);
    return (await res.json()) as TopologyStatus;
  }

  async service(name: string): Promise<ServiceStatus> {
    const found = (await this.status()).services.find((s) => s.name === name);
    if (!found) throw new Error(`no service ${name}`);
    return found;
  }

  /** kill (a crash, restarted by the restart policy), stop, start or restart, through the control interface. */
  async control(name: string, action: 'kill' | 'stop' | 'start' | 'restart'): Promise<unknown> {
    const res = await fetch(`http://127.0.0.1:${this.info.admin}/services/${name}/${action}`, {
      method: 'POST',
    });
    const body = await res.json();
    if (!res.ok) throw new Error(`${action} ${name}: ${res.status} ${JSON.stringify(body)}`);
    return body;
  }

  /** Waits until every long-running service that runs is healthy, with no help from the test. */
  async waitAllHealthy(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { services } = await this.status();
      const waiting = services.filter((s) => s.state !== 'skipped' && !isJob(s) && !s.healthy);
      if (waiting.length === 0) return;
      if (Date.now() > deadline) {
        throw new Error(`not healthy after ${timeoutMs} ms: ${waiting.map((s) => s.name).join(', ')}`);
      }
      await sleep(200);
    }
  }

  /** SIGTERM and wait: resolves with the runner's exit code; stoppedCodes holds each service's. */
  async stop(timeoutMs = 60_000): Promise<number | null> {
    if (this.exitCode === null) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
      await this.exited;
      clearTimeout(timer);
    }
    const line = this.output.find((l) => l.startsWith(STOPPED));
    if (line)
      this.stoppedCodes = (
        JSON.parse(line.slice(STOPPED.length)) as { exitCodes: Record<string, number | null> }
      ).exitCodes;
    return this.exitCode;
  }

  cleanUp(): void {
    rmSync(this.work, { recursive: true, force: true });
  }
}

const isJob = (s: ServiceStatus) =>
  (ROLE_TABLE[s.role as RoleName] as { job?: boolean } | undefined)?.job === true;

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
