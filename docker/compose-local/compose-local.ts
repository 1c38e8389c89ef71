// The compose topology as local processes: the embedded PostgreSQL, the path-prefix gateway and one
// `node dist/main.js` per role service, started in depends_on order, each waited for by its healthcheck,
// and stopped dependents-first.
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { makeRoleCerts } from '../../src/roles/certs/role-certs.js';
import { parseRoles, partsOf } from '../../src/roles/role-table.js';
import { ComposeError, interpolationEnv, loadComposeFile, type DependsOnCondition } from './compose-file.js';
import { Gateway, loadRoutes } from './gateway.js';
import { LocalPostgres } from './local-postgres.js';
import { isPostgres, planLocal, startOrder, type LocalPlan } from './local-plan.js';
import { ServiceProcess, type ServiceProcessOptions, type ServiceStatus } from './service-process.js';

export interface ComposeLocalOptions {
  composeFile: string;
  /** The repository root: processes run there, with `node <root>/dist/main.js`. */
  root: string;
  /** The shell environment compose would interpolate from. */
  env: Record<string, string | undefined>;
  /** Compose's `--env-file`; default the `.env` beside the compose file. */
  envFile?: string;
  /** The embedded PostgreSQL's data directory (the `postgres-data` volume). */
  dataDir: string;
  freePorts?: boolean;
  gatewayPort?: number;
  /** Parts this build has (dist/roles/parts.js); services needing others are skipped. */
  availableParts: ReadonlySet<string>;
  startTimeoutMs: number;
  output: ServiceProcessOptions['output'];
  log: (line: string) => void;
  allocatePort: () => Promise<number>;
}

export interface TopologyStatus {
  gateway?: { name: string; port: number; routesFile: string };
  published: Record<string, Record<number, number>>;
  postgres?: { name: string; state: string; port?: number; url?: string };
  services: ServiceStatus[];
  notes: string[];
}

export class ComposeLocal {
  readonly services = new Map<string, ServiceProcess>();
  gateway?: Gateway;
  private stopping?: Promise<Record<string, number | null>>;

  private constructor(
    readonly plan: LocalPlan,
    readonly postgres: LocalPostgres | undefined,
    private readonly opts: ComposeLocalOptions,
  ) {}

  /** Loads the compose file, starts everything and waits for every service's healthcheck. */
  static async up(opts: ComposeLocalOptions): Promise<ComposeLocal> {
    const composeDir = dirname(resolve(opts.composeFile));
    const env = interpolationEnv(opts.env, opts.envFile ?? resolve(composeDir, '.env'));
    const notes: string[] = [];
    if (!env.JWT_SECRET) {
      env.JWT_SECRET = randomBytes(32).toString('base64url');
      notes.push('JWT_SECRET is not set: a random one is used for this run');
    }
    // The compose file has no default password; the local PostgreSQL is this run's own, so any will do.
    if (!env.POSTGRES_PASSWORD) {
      env.POSTGRES_PASSWORD = randomBytes(18).toString('base64url');
      notes.push('POSTGRES_PASSWORD is not set: a random one is used for this run');
    }
    const file = loadComposeFile(opts.composeFile, env);
    const pgEntry = Object.entries(file.services).find(([, s]) => isPostgres(s));
    let postgres: LocalPostgres | undefined;
    if (pgEntry) {
      postgres = new LocalPostgres(pgEntry[0], {
        dataDir: opts.dataDir,
        database: pgEntry[1].environment?.POSTGRES_DB ?? 'polyrole',
        log: opts.log,
      });
      opts.log(`${pgEntry[0]}: starting embedded PostgreSQL (data: ${opts.dataDir})`);
      await postgres.start();
    }
    const plan = await planLocal(file, {
      composeDir,
      allocatePort: opts.allocatePort,
      databaseUrl: postgres?.url,
      freePorts: opts.freePorts,
      gatewayPort: opts.gatewayPort,
      // Beside the PostgreSQL data: compose keeps its volumes, so the runner keeps these.
      volumesDir: resolve(dirname(opts.dataDir), 'volumes'),
    });
    plan.notes.unshift(...notes);
    const topo = new ComposeLocal(plan, postgres, opts);
    try {
      await topo.startAll();
    } catch (err) {
      await topo.down();
      throw err;
    }
    return topo;
  }

  private async startAll(): Promise<void> {
    const { plan, opts } = this;
    for (const note of plan.notes) opts.log(`note: ${note}`);
    if (plan.gateway) {
      this.gateway = new Gateway(loadRoutes(plan.gateway.routesFile, plan.rewrite), opts.log);
      plan.gateway.port = await this.gateway.listen(plan.gateway.port);
      opts.log(`${plan.gateway.name}: listening on 127.0.0.1:${plan.gateway.port}`);
    }
    if (plan.certs) {
      const { issued } = makeRoleCerts(plan.certs.dir);
      opts.log(
        `${plan.certs.name}: ${issued.length ? `issued ${issued.join(', ')}` : 'certificates already there'}`,
      );
    }
    const known = [plan.postgres?.name, plan.gateway?.name, plan.certs?.name, ...plan.unsupported].filter(
      (n): n is string => !!n,
    );
    const order = startOrder(plan.services, known);
    for (const name of order) {
      const spec = plan.services.find((s) => s.name === name)!;
      const service = new ServiceProcess(spec, {
        command: process.execPath,
        args: [resolve(opts.root, 'dist/main.js')],
        cwd: opts.root,
        baseEnv: { PATH: opts.env.PATH ?? '/usr/bin:/bin', HOME: opts.env.HOME ?? '/tmp' },
        output: opts.output,
        log: opts.log,
      });
      this.services.set(name, service);
      const missing = partsOf(parseRoles(spec.role)).filter((p) => !opts.availableParts.has(p));
      const skippedDep = Object.keys(spec.dependsOn).find((d) => this.services.get(d)?.state === 'skipped');
      const unsupportedDep = Object.keys(spec.dependsOn).find((d) => plan.unsupported.includes(d));
      const reason =
        missing.length > 0
          ? `part ${missing.join(', ')} is not in this build (dist/roles/parts.js)`
          : (skippedDep ?? unsupportedDep)
            ? `it depends on ${skippedDep ?? unsupportedDep}, which is not run`
            : undefined;
      if (reason) {
        service.skip(reason);
        opts.log(`${name}: SKIPPED: ${reason}`);
      }
    }
    // Each service starts as soon as its own dependencies meet their conditions, as compose does.
    const started = order.map(async (name) => {
      const service = this.services.get(name)!;
      if (service.state === 'skipped') return;
      await Promise.all(
        Object.entries(service.spec.dependsOn).map(([dep, condition]) => this.waitFor(dep, condition)),
      );
      opts.log(`${name}: starting (ROLE=${service.spec.role})`);
      service.start();
      await service.waitHealthy(opts.startTimeoutMs);
    });
    const results = await Promise.allSettled(started);
    const failed = results.flatMap((r) =>
      r.status === 'rejected' ? [String(r.reason?.message ?? r.reason)] : [],
    );
    if (failed.length > 0) throw new ComposeError(failed);
  }

  private async waitFor(dep: string, condition: DependsOnCondition): Promise<void> {
    if (dep === this.postgres?.name) return; // started (and answering) before any role
    if (dep === this.plan.certs?.name) return; // made before any role
    const service = this.services.get(dep);
    if (!service) throw new ComposeError([`unknown dependency ${dep}`]);
    const timeout = this.opts.startTimeoutMs;
    if (condition === 'service_healthy') await service.waitHealthy(timeout);
    else if (condition === 'service_completed_successfully') await service.waitCompleted(timeout);
    else await service.waitStarted(timeout);
  }

  get(name: string): ServiceProcess {
    const s = this.services.get(name);
    if (!s) throw new ComposeError([`no service ${name}`]);
    return s;
  }

  status(): TopologyStatus {
    return {
      gateway: this.plan.gateway && { ...this.plan.gateway },
      published: Object.fromEntries(this.plan.services.map((s) => [s.name, s.published])),
      postgres: this.postgres?.status(),
      services: [...this.services.values()].map((s) => s.status()),
      notes: this.plan.notes,
    };
  }

  /**
   * Stops dependents before what they depend on (jobs first, PostgreSQL last), each with SIGTERM and its
   * stop_grace_period. Resolves with the exit code of every service that was not skipped (null: killed, or
   * never started).
   */
  down(): Promise<Record<string, number | null>> {
    return (this.stopping ??= this.stopAll());
  }

  private async stopAll(): Promise<Record<string, number | null>> {
    const codes: Record<string, number | null> = {};
    const names = [...this.services.keys()];
    const dependents = (name: string) =>
      names.filter((n) => Object.keys(this.services.get(n)!.spec.dependsOn).includes(name));
    const done = new Map<string, Promise<void>>();
    const stop = (name: string): Promise<void> => {
      let p = done.get(name);
      if (!p) {
        p = (async () => {
          await Promise.all(dependents(name).map(stop));
          const service = this.services.get(name)!;
          if (service.state === 'skipped') return;
          const ran = service.lastExit !== undefined || service.state === 'running';
          await service.stop();
          codes[name] = ran ? (service.lastExit?.code ?? null) : null;
        })();
        done.set(name, p);
      }
      return p;
    };
    await Promise.all(names.map(stop));
    await this.gateway?.close();
    await this.postgres?.stop();
    return codes;
  }
}
