// One compose service as a local process: `node dist/main.js` with the service's environment, its healthcheck
// probed while it runs, and its restart policy applied when it dies (a SIGKILL is a crash, as under Docker;
// only stop() is a manual stop that is not restarted).
import { spawn, type ChildProcess } from 'node:child_process';
import { Backoff } from '../../src/platform/backoff.util.js';
import type { LocalService } from './local-plan.js';

export type ServiceState = 'created' | 'skipped' | 'running' | 'exited' | 'stopped';

export interface ServiceStatus {
  name: string;
  role: string;
  state: ServiceState;
  healthy: boolean;
  pid?: number;
  restarts: number;
  lastExit?: { code: number | null; signal: string | null };
  httpPort: number;
  ports: Record<number, number>;
  published: Record<number, number>;
  skipped?: string;
}

export interface ServiceProcessOptions {
  /** `node` and the entry point (dist/main.js). */
  command: string;
  args: string[];
  cwd: string;
  /** Environment every service gets under its own (PATH, HOME). */
  baseEnv: Record<string, string>;
  /** Each output line of the service. */
  output: (service: string, line: string) => void;
  /** The runner's own messages. */
  log: (line: string) => void;
  healthIntervalMs?: number;
}

const TAIL_LINES = 60;
const RESTART_BACKOFF = { initialMs: 100, maxMs: 10_000 };

export class ServiceProcess {
  state: ServiceState = 'created';
  healthy = false;
  restarts = 0;
  lastExit?: { code: number | null; signal: string | null };
  skipped?: string;
  private child?: ChildProcess;
  private exited: Promise<void> = Promise.resolve();
  private manualStop = false;
  private readonly backoff = new Backoff(RESTART_BACKOFF);
  private restartTimer?: NodeJS.Timeout;
  private healthTimer?: NodeJS.Timeout;
  private readonly tailLines: string[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly spec: LocalService,
    private readonly opts: ServiceProcessOptions,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  status(): ServiceStatus {
    return {
      name: this.name,
      role: this.spec.role,
      state: this.state,
      healthy: this.healthy,
      pid: this.state === 'running' ? this.child?.pid : undefined,
      restarts: this.restarts,
      lastExit: this.lastExit,
      httpPort: this.spec.httpPort,
      ports: this.spec.ports,
      published: this.spec.published,
      ...(this.skipped ? { skipped: this.skipped } : {}),
    };
  }

  skip(reason: string): void {
    this.state = 'skipped';
    this.skipped = reason;
    this.notify();
  }

  start(): void {
    if (this.state === 'running' || this.state === 'skipped') return;
    this.manualStop = false;
    clearTimeout(this.restartTimer);
    const child = spawn(this.opts.command, this.opts.args, {
      cwd: this.opts.cwd,
      env: { ...this.opts.baseEnv, ...this.spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.state = 'running';
    this.healthy = false;
    let pending = '';
    const onData = (buf: Buffer) => {
      pending += buf.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line) this.line(line);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    // 'exit', not 'close': processes the service started (the master's children) may hold its output open
    // after it died, as sibling containers outlive a killed master under compose.
    this.exited = new Promise((done) => {
      child.once('error', (err) => this.line(`spawn failed: ${err.message}`));
      child.once('exit', (code, signal) => {
        this.onExit(code, signal);
        done();
      });
    });
    child.once('close', () => {
      if (pending) this.line(pending);
    });
    this.pollHealth(child);
    this.notify();
  }

  /** Sends a signal as `docker kill` would; the restart policy decides what happens next. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.state === 'running') this.child?.kill(signal);
  }

  /** A manual stop: SIGTERM, SIGKILL after the stop grace period; not restarted. */
  async stop(): Promise<void> {
    this.manualStop = true;
    clearTimeout(this.restartTimer);
    if (this.state !== 'running') {
      if (this.state === 'exited') this.state = 'stopped';
      return;
    }
    this.child!.kill('SIGTERM');
    const killer = setTimeout(() => {
      this.opts.log(`${this.name} did not stop within ${this.spec.stopGraceMs} ms; SIGKILL`);
      this.child?.kill('SIGKILL');
    }, this.spec.stopGraceMs);
    await this.exited;
    clearTimeout(killer);
  }

  async restart(): Promise<void> {
    await this.stop();
    this.start();
  }

  tail(n = TAIL_LINES): string {
    return this.tailLines.slice(-n).join('\n');
  }

  /** Resolves when the service is healthy (a job: also when it has exited 0); rejects on timeout or skip. */
  async waitHealthy(timeoutMs: number): Promise<void> {
    await this.waitFor(
      () => this.healthy || (this.spec.job && this.lastExit?.code === 0),
      timeoutMs,
      'healthy',
    );
  }

  async waitStarted(timeoutMs: number): Promise<void> {
    await this.waitFor(() => this.state === 'running' || this.lastExit !== undefined, timeoutMs, 'started');
  }

  async waitCompleted(timeoutMs: number): Promise<void> {
    await this.waitFor(() => this.state !== 'running' && this.lastExit?.code === 0, timeoutMs, 'completed');
  }

  private waitFor(test: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.state === 'skipped') {
          finish();
          reject(new Error(`${this.name} was skipped: ${this.skipped}`));
        } else if (test()) {
          finish();
          resolve();
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`${this.name} not ${what} after ${timeoutMs} ms; last output:\n${this.tail(20)}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  private line(line: string): void {
    this.tailLines.push(line);
    if (this.tailLines.length > TAIL_LINES * 2) this.tailLines.splice(0, TAIL_LINES);
    this.opts.output(this.name, line);
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    clearTimeout(this.healthTimer);
    this.healthy = false;
    this.lastExit = { code, signal };
    this.state = this.manualStop ? 'stopped' : 'exited';
    const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
    this.opts.log(`${this.name}${this.spec.job ? ' (job)' : ''} ${how}`);
    const policy = this.spec.restart;
    const again =
      !this.manualStop &&
      (policy === 'always' || policy === 'unless-stopped' || (policy === 'on-failure' && code !== 0));
    if (again) {
      const delay = this.backoff.next();
      this.opts.log(`${this.name}: restart policy ${policy}, restarting in ${delay} ms`);
      this.restartTimer = setTimeout(() => {
        this.restarts++;
        this.start();
      }, delay);
    }
    this.notify();
  }

  private pollHealth(child: ChildProcess): void {
    const every = this.opts.healthIntervalMs ?? 500;
    const url = `http://127.0.0.1:${this.spec.httpPort}${this.spec.healthPath}`;
    const probe = async () => {
      if (this.child !== child || this.state !== 'running') return;
      let ok = false;
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
        ok = res.ok;
        await res.body?.cancel();
      } catch {
        ok = false;
      }
      if (this.child !== child || this.state !== 'running') return;
      if (ok !== this.healthy) {
        this.healthy = ok;
        this.opts.log(`${this.name} is ${ok ? 'healthy' : 'unhealthy'}`);
        if (ok) this.backoff.reset();
        this.notify();
      }
      this.healthTimer = setTimeout(() => void probe(), every);
    };
    this.healthTimer = setTimeout(() => void probe(), every);
  }
}
