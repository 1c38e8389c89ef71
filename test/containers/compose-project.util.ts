// One compose project of docker-compose.yml on a real engine, for the container suite: its own project name and
// network, a copy of config/ (the suite edits it; the repository's stays untouched), the suite's published ports,
// podman's healthchecks run in a loop (podman schedules them with systemd, which these hosts lack), and a cleanup
// that leaves nothing of the project behind, also after a crashed run.
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../harness/topology.js';
import { type CommandResult, type Engine, run } from './engine.util.js';

export interface ContainerSummary {
  id: string;
  name: string;
  service: string;
  state: string;
  labels: Record<string, string>;
}

export interface ContainerState {
  Status: string;
  Running: boolean;
  ExitCode: number;
  StartedAt: string;
  Pid: number;
  Health?: { Status: string };
}

export interface ProjectSettings {
  name: string;
  /** Everything docker-compose.yml interpolates (images, ports, secrets). */
  variables: Record<string, string>;
  /** Service -> host port published on 127.0.0.1 for the role's HTTP port 3000 (the gateway's stand-in). */
  httpPorts: Record<string, number>;
}

const COMPOSE_LABEL = 'com.docker.compose.project';
const SERVICE_LABEL = 'com.docker.compose.service';
const START_PERIOD_RECHECK_MS = 3000;

/** The certificate volumes of docker-compose.yml (the children's is named after the network). */
const TLS_VOLUMES = ['ca', 'exchange', 'generator', 'calculator', 'auth', 'transaction', 'psp', 'master'].map(
  (v) => `tls-${v}`,
);

export class ComposeProject {
  /** Project directory: the config copy and the suite's override live here. */
  readonly dir = mkdtempSync(join(tmpdir(), 'polyrole-containers-'));
  readonly configDir = join(this.dir, 'config');
  readonly files: string[];
  readonly env: NodeJS.ProcessEnv;
  /** Every command the suite ran through compose or make, for the record. */
  readonly commands: string[] = [];
  private healthLoop: Promise<void> | undefined;
  private healthStopping = false;
  private readonly lastCheck = new Map<string, number>();
  private readonly passedAt = new Map<string, number>();
  readonly everHealthy = new Set<string>();

  constructor(
    readonly engine: Engine,
    readonly settings: ProjectSettings,
  ) {
    cpSync(join(ROOT, 'config'), this.configDir, { recursive: true });
    const override = join(this.dir, 'docker-compose.ports.yml');
    writeFileSync(
      override,
      [
        '# The container suite: each role it calls over HTTP is published on loopback, where the gateway would be.',
        'services:',
        ...Object.entries(settings.httpPorts).flatMap(([service, port]) => [
          `  ${service}:`,
          `    ports: ['127.0.0.1:${port}:3000']`,
        ]),
        '',
      ].join('\n'),
    );
    this.files = [join(ROOT, 'docker-compose.yml'), override];
    this.env = {
      ...engine.env,
      COMPOSE_PROJECT_NAME: settings.name,
      ...settings.variables,
    };
  }

  /** docker-compose as the Makefile's COMPOSE: relative paths of the compose file resolve in the project dir. */
  get composeCommand(): string {
    return `docker-compose --project-directory ${this.dir}`;
  }

  compose(args: string[], timeoutMs = 600_000, extraFiles: string[] = []): Promise<CommandResult> {
    const all = [
      '--project-directory',
      this.dir,
      ...[...this.files, ...extraFiles].flatMap((f) => ['-f', f]),
      ...args,
    ];
    this.commands.push(`docker-compose ${all.join(' ')}`);
    return run('docker-compose', all, { env: this.env, timeoutMs });
  }

  make(target: string, variables: Record<string, string>, timeoutMs = 600_000): Promise<CommandResult> {
    const args = [target, ...Object.entries(variables).map(([k, v]) => `${k}=${v}`)];
    this.commands.push(`make ${args.map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ')}`);
    return run('make', args, { env: this.env, timeoutMs });
  }

  /** The Makefile's variables for this project: its compose command and files. */
  makeVariables(extraFiles: string[] = []): Record<string, string> {
    return { COMPOSE: this.composeCommand, COMPOSE_FILE: [...this.files, ...extraFiles].join(' ') };
  }

  async containers(
    filters: Record<string, string[]> = { label: [`${COMPOSE_LABEL}=${this.settings.name}`] },
  ) {
    const res = await this.engine.api({
      method: 'GET',
      path: `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify(filters))}`,
    });
    if (res.status !== 200) throw new Error(`listing containers: ${res.status} ${res.text}`);
    return (
      res.json as Array<{ Id: string; Names: string[]; State: string; Labels: Record<string, string> }>
    ).map((c): ContainerSummary => ({
      id: c.Id,
      name: (c.Names[0] ?? '').replace(/^\//, ''),
      service: c.Labels?.[SERVICE_LABEL] ?? '',
      state: c.State,
      labels: c.Labels ?? {},
    }));
  }

  async container(service: string): Promise<ContainerSummary> {
    const found = (await this.containers()).filter((c) => c.service === service);
    if (found.length !== 1) throw new Error(`expected one container of ${service}, found ${found.length}`);
    return found[0];
  }

  async state(id: string): Promise<ContainerState & { Image: string }> {
    const res = await this.engine.api({ method: 'GET', path: `/containers/${id}/json` });
    if (res.status !== 200) throw new Error(`inspecting ${id}: ${res.status} ${res.text}`);
    const body = res.json as { State: ContainerState; Image: string };
    return { ...body.State, Image: body.Image };
  }

  /** podman only: runs each running container's healthcheck in a loop, as Docker's engine would. */
  startHealthchecks(): void {
    if (this.engine.kind !== 'podman' || this.healthLoop) return;
    this.healthStopping = false;
    this.healthLoop = (async () => {
      while (!this.healthStopping) {
        try {
          const running = (await this.containers()).filter((c) => c.state === 'running');
          // Two at a time: each check starts a node process in its container, and the roles are booting beside it.
          for (let i = 0; i < running.length; i += 2) {
            await Promise.all(running.slice(i, i + 2).map((c) => this.check(c)));
          }
        } catch {
          // The engine is busy or the project is going away; the next round tries again.
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
  }

  /**
   * Runs one container's healthcheck when it is due. Docker's cadence: every interval, failures inside the start
   * period not counted; a check is tried every 3 s during the start period only, so a role is seen healthy soon
   * after it is, while after it a failing role gets as many intervals to recover as Docker would give it.
   */
  private async check(c: ContainerSummary): Promise<void> {
    const now = Date.now();
    const inspected = await this.engine.api({ method: 'GET', path: `/containers/${c.id}/json` });
    const body = inspected.json as {
      Config?: { Healthcheck?: { Test?: string[]; Interval?: number; StartPeriod?: number } };
      State?: { StartedAt?: string };
    };
    const hc = body?.Config?.Healthcheck;
    if (!hc?.Test?.length || hc.Test[0] === 'NONE') return;
    const intervalMs = (hc.Interval || 30e9) / 1e6;
    const startPeriodEnd = Date.parse(body.State?.StartedAt ?? '') + (hc.StartPeriod ?? 0) / 1e6;
    const healthy = this.passedAt.has(c.id);
    const dueAfter = !healthy && now < startPeriodEnd ? START_PERIOD_RECHECK_MS : intervalMs;
    if (now - (this.lastCheck.get(c.id) ?? 0) < dueAfter) return;
    this.lastCheck.set(c.id, now);
    const res = await this.engine.run(['healthcheck', 'run', c.id], { timeoutMs: 60_000 });
    if (res.code === 0) {
      this.passedAt.set(c.id, now);
      if (c.service) this.everHealthy.add(c.service);
    } else {
      this.passedAt.delete(c.id);
    }
  }

  async stopHealthchecks(): Promise<void> {
    this.healthStopping = true;
    await this.healthLoop;
    this.healthLoop = undefined;
  }

  /**
   * Whether the service's container is healthy by a check that started at or after `since` (podman: this loop's
   * checks; Docker: its own).
   */
  async healthySince(service: string, since: number): Promise<boolean> {
    const c = (await this.containers()).find((x) => x.service === service);
    if (!c || c.state !== 'running') return false;
    if (this.engine.kind === 'podman') return (this.passedAt.get(c.id) ?? 0) >= since;
    return (await this.state(c.id)).Health?.Status === 'healthy';
  }

  /** Each container's health and its last check's output, for a failure to show why. */
  async healthReport(): Promise<Record<string, string>> {
    const report: Record<string, string> = {};
    for (const c of await this.containers()) {
      const res = await this.engine.api({ method: 'GET', path: `/containers/${c.id}/json` });
      const health = (
        res.json as { State?: { Health?: { Status: string; Log?: Array<{ Output: string }> } } }
      )?.State?.Health;
      report[c.service] = `${c.state} ${health?.Status ?? ''} ${health?.Log?.at(-1)?.Output ?? ''}`.trim();
    }
    return report;
  }

  /** Forgets the container's passed checks, so the next wait needs a new passing one (after a restart). */
  forgetHealth(id: string): void {
    this.passedAt.delete(id);
    this.lastCheck.delete(id);
  }

  /** Follows the project's logs (`docker-compose logs -f`) until every container has stopped. */
  followLogs(extraFiles: string[] = []): {
    done: Promise<string>;
    text: () => string;
    process: ChildProcess;
  } {
    const args = [
      '--project-directory',
      this.dir,
      ...[...this.files, ...extraFiles].flatMap((f) => ['-f', f]),
      'logs',
      '-f',
      '--no-color',
    ];
    // docker-compose is Python: unbuffered, so lines arrive as the containers write them.
    const child = spawn('docker-compose', args, {
      env: { ...this.env, PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.resume();
    return { process: child, text: () => out, done: new Promise((r) => child.on('close', () => r(out))) };
  }

  /** The lines of one service's logs (stdout and stderr) as the engine keeps them. */
  async logs(service: string): Promise<string[]> {
    const c = await this.container(service);
    const res = await this.engine.run(['logs', c.id], { timeoutMs: 60_000 });
    return `${res.stdout}${res.stderr}`.split('\n').filter(Boolean);
  }

  /**
   * Removes everything of the project: its containers, the children attached to its network, the network and
   * the PostgreSQL volume. Safe to call when nothing is there.
   */
  async removeAll(): Promise<void> {
    const network = this.settings.variables.POLYROLE_NETWORK;
    const doomed = [...(await this.containers()), ...(await this.containers({ network: [network] }))];
    for (const id of new Set(doomed.map((c) => c.id))) {
      await this.engine.api({ method: 'DELETE', path: `/containers/${id}?force=true&v=true` });
    }
    await this.engine.api({ method: 'DELETE', path: `/networks/${encodeURIComponent(network)}` });
    const volumes = [
      ...['postgres-data', ...TLS_VOLUMES].map((v) => `${this.settings.name}_${v}`),
      `${network}-tls-child`,
    ];
    for (const volume of volumes)
      await this.engine.api({ method: 'DELETE', path: `/volumes/${encodeURIComponent(volume)}?force=true` });
  }

  async networkExists(): Promise<boolean> {
    const network = this.settings.variables.POLYROLE_NETWORK;
    const res = await this.engine.api({ method: 'GET', path: `/networks/${encodeURIComponent(network)}` });
    return res.status === 200;
  }

  disposeDir(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
