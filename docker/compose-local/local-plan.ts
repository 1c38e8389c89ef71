// Turns the compose services into local processes: every container port gets a loopback port (the published
// ones keep their host port unless asked not to), and every environment value that names a service's address,
// the database or a mounted path is rewritten to its local equivalent. Pure: ports come from an allocator.
import { isAbsolute, join, posix, resolve } from 'node:path';
import { ROLE_TABLE, type RoleName } from '../../src/roles/role-table.js';
import {
  ComposeError,
  dependsOn,
  durationMs,
  publishedPort,
  type ComposeFile,
  type ComposeService,
  type DependsOnCondition,
} from './compose-file.js';

export type RestartPolicy = 'no' | 'always' | 'unless-stopped' | 'on-failure';

export interface LocalService {
  name: string;
  role: string;
  /** The process's whole environment (the runner adds only PATH and HOME). */
  env: Record<string, string>;
  httpPort: number;
  /** Path of the compose healthcheck, probed on httpPort. */
  healthPath: string;
  dependsOn: Record<string, DependsOnCondition>;
  restart: RestartPolicy;
  stopGraceMs: number;
  /** Runs its work and exits (echo-client): waited for, not kept healthy. */
  job: boolean;
  /** Container port -> loopback port. */
  ports: Record<number, number>;
  /** Published container ports (compose `ports:`) -> loopback port. */
  published: Record<number, number>;
}

export interface LocalGateway {
  name: string;
  port: number;
  /** The Traefik file provider's routes file, on the host. */
  routesFile: string;
}

/** The one-shot service that makes the deployment's certificates (src/roles/certs/certs.main.ts). */
export interface LocalCerts {
  name: string;
  /** Where it writes, on the host: each of its volumes is a directory below. */
  dir: string;
}

export interface LocalPostgres {
  name: string;
  /** POSTGRES_DB of the service: the database the embedded server creates. */
  database: string;
}

export interface LocalPlan {
  services: LocalService[];
  postgres?: LocalPostgres;
  gateway?: LocalGateway;
  certs?: LocalCerts;
  /** Services neither a role, PostgreSQL nor the gateway: not run. */
  unsupported: string[];
  /** What differs from compose, said once at start. */
  notes: string[];
  /** `host:port` of a compose address (`exchange:4000`) -> its loopback address; unknown ones unchanged. */
  rewrite(value: string): string;
}

export interface PlanOptions {
  composeDir: string;
  allocatePort: () => Promise<number>;
  /** The embedded server's URL; DATABASE_URL values that point at the postgres service become this. */
  databaseUrl?: string;
  /** Publish on free ports instead of the compose host ports (tests, or when those are taken). */
  freePorts?: boolean;
  /** Entry (gateway) port instead of the published one. */
  gatewayPort?: number;
  /** Host directory for the named volumes (each one a directory below); default `<composeDir>/data/compose-local/volumes`. */
  volumesDir?: string;
}

const LOOPBACK = '127.0.0.1';
const DEFAULT_HTTP_PORT = 3000;
const HEALTH_URL = /https?:\/\/(?:127\.0\.0\.1|localhost):(\d+)(\/[^\s'"`)]*)/;

export const isPostgres = (s: ComposeService): boolean => /(^|\/)postgres(:|$)/.test(s.image ?? '');
export const isTraefik = (s: ComposeService): boolean => /(^|\/)traefik(:|$)/.test(s.image ?? '');
/** The service that runs certs.main.ts: `[node, dist/roles/certs/certs.main.js, <dir>]`. */
export const isCerts = (s: ComposeService): boolean =>
  !s.environment?.ROLE && (s.command ?? []).some((c) => c.endsWith('certs/certs.main.js'));

function restartPolicy(raw: string | undefined): RestartPolicy {
  const policy = (raw ?? 'no').replace(/:\d+$/, '');
  if (!['no', 'always', 'unless-stopped', 'on-failure'].includes(policy)) {
    throw new ComposeError([`unknown restart policy "${raw}"`]);
  }
  return policy as RestartPolicy;
}

/** The container ports a role service listens on: its numeric `*_PORT` variables, HTTP 3000 by default. */
function containerPorts(env: Record<string, string>): Map<string, number> {
  const ports = new Map<string, number>();
  for (const [key, value] of Object.entries(env)) {
    if (key.endsWith('_PORT') && /^\d+$/.test(value)) ports.set(key, Number(value));
  }
  if (!ports.has('HTTP_PORT')) ports.set('HTTP_PORT', DEFAULT_HTTP_PORT);
  return ports;
}

/**
 * Bind mounts `./host:/container[:ro]` -> [container path, absolute host path], and, given `volumeDir`, named
 * volumes `name:/container[:ro]` -> [container path, the volume's host directory].
 */
function bindMounts(
  service: ComposeService,
  composeDir: string,
  volumeDir?: (name: string) => string,
): [string, string][] {
  return (service.volumes ?? []).flatMap((v) => {
    const [host, container] = v.split(':');
    if (!container) return [];
    const path = container.replace(/\/$/, '');
    if (host.startsWith('.') || isAbsolute(host))
      return [[path, resolve(composeDir, host)] as [string, string]];
    return volumeDir ? [[path, volumeDir(host)] as [string, string]] : [];
  });
}

/** The pinned address of a service on its network (`networks: {n: {ipv4_address}}`), if any. */
function pinnedAddress(s: ComposeService): string | undefined {
  if (!s.networks || Array.isArray(s.networks)) return undefined;
  return Object.values(s.networks).find((n) => n?.ipv4_address)?.ipv4_address;
}

export async function planLocal(file: ComposeFile, opts: PlanOptions): Promise<LocalPlan> {
  const notes: string[] = [];
  const unsupported: string[] = [];
  const entries = Object.entries(file.services ?? {});
  const roleEntries = entries.filter(([, s]) => s.environment?.ROLE);
  const postgresEntry = entries.find(([, s]) => isPostgres(s));
  const gatewayEntry = entries.find(([, s]) => isTraefik(s));
  const certsEntry = entries.find(([, s]) => isCerts(s));
  for (const [name, s] of entries) {
    if (!s.environment?.ROLE && ![postgresEntry, gatewayEntry, certsEntry].some((e) => e?.[1] === s))
      unsupported.push(name);
  }

  // Named volumes become directories; the certificates service's own volumes sit where it writes them, so a role
  // mounting `tls-psp` reads what the service wrote to `<its dir>/psp`.
  const volumesDir = opts.volumesDir ?? resolve(opts.composeDir, 'data', 'compose-local', 'volumes');
  const volumeDirs = new Map<string, string>();
  let certs: LocalCerts | undefined;
  if (certsEntry) {
    const [name, s] = certsEntry;
    const root = s.command!.at(-1)!;
    certs = { name, dir: join(volumesDir, name) };
    for (const v of s.volumes ?? []) {
      const [volume, container] = v.split(':');
      const below = posix.relative(root, container);
      if (container && !below.startsWith('..')) volumeDirs.set(volume, join(certs.dir, below));
    }
    notes.push(`${name}: certificates made by this runner in ${certs.dir}, kept across runs`);
  }
  const volumeDir = (volume: string) => volumeDirs.get(volume) ?? join(volumesDir, volume);
  const gatewayAddress = gatewayEntry && pinnedAddress(gatewayEntry[1]);

  // Pass 1: a loopback port for every container port of every service.
  const portMap = new Map<string, Map<number, number>>();
  const publishedMap = new Map<string, Map<number, number>>();
  for (const [name, s] of roleEntries) {
    const local = new Map<number, number>();
    const published = new Map<number, number>();
    for (const spec of s.ports ?? []) {
      const { host, container } = publishedPort(spec);
      published.set(container, opts.freePorts ? await opts.allocatePort() : host);
    }
    for (const container of containerPorts(s.environment!).values()) {
      if (!local.has(container))
        local.set(container, published.get(container) ?? (await opts.allocatePort()));
    }
    for (const [container, port] of published) local.set(container, port);
    portMap.set(name, local);
    publishedMap.set(name, published);
  }
  let gateway: LocalGateway | undefined;
  if (gatewayEntry) {
    const [name, s] = gatewayEntry;
    const published = (s.ports ?? []).map(publishedPort)[0];
    const port =
      opts.gatewayPort ?? (opts.freePorts || !published ? await opts.allocatePort() : published.host);
    const routesFile = routesFileOf(s, opts.composeDir);
    gateway = { name, port, routesFile };
    notes.push(
      `${name}: a local path-prefix router on ${LOOPBACK}:${port} reads ${routesFile} (not Traefik)`,
    );
  }

  const serviceNames = roleEntries.map(([n]) => n).sort((a, b) => b.length - a.length);
  const address = new RegExp(`(?<![\\w.-])(${serviceNames.map(escape).join('|')}):(\\d+)(?![\\d])`, 'g');
  const postgresName = postgresEntry?.[0];
  const rewrite = (value: string): string => {
    if (postgresName && opts.databaseUrl && /^postgres(ql)?:\/\//.test(value)) {
      const url = new URL(value);
      if (url.hostname === postgresName) {
        const local = new URL(opts.databaseUrl);
        local.pathname = url.pathname;
        return local.toString();
      }
    }
    // The gateway's pinned address (TRUSTED_PROXIES) is loopback here, where the local gateway runs.
    if (gatewayAddress)
      value = value
        .split(',')
        .map((v) => (v.trim() === gatewayAddress ? LOOPBACK : v))
        .join(',');
    if (serviceNames.length === 0) return value;
    return value.replace(address, (match, service: string, port: string) => {
      const local = portMap.get(service)?.get(Number(port));
      return local === undefined ? match : `${LOOPBACK}:${local}`;
    });
  };

  // Pass 2: each role's environment, rewritten.
  const services: LocalService[] = [];
  for (const [name, s] of roleEntries) {
    const composeEnv = s.environment!;
    const ports = portMap.get(name)!;
    const mounts = bindMounts(s, opts.composeDir, volumeDir);
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(composeEnv)) {
      const mount = mounts.find(([container]) => value === container || value.startsWith(`${container}/`));
      env[key] = mount ? mount[1] + value.slice(mount[0].length) : rewrite(value);
    }
    // A container binds all its interfaces inside its own network; on the host, loopback only (FOO_HOST is
    // the platform's name for the interface of the FOO_PORT listener).
    for (const [key, container] of containerPorts(composeEnv)) {
      env[key] = String(ports.get(container));
      env[key.replace(/_PORT$/, '_HOST')] = LOOPBACK;
    }
    const role = composeEnv.ROLE;
    const spec = ROLE_TABLE[role as RoleName] as { job?: boolean } | undefined;
    if (env.MASTER_SPAWNER === 'docker') {
      env.MASTER_SPAWNER = 'process';
      env.MASTER_ADVERTISE_ADDR = `${LOOPBACK}:${ports.get(Number(composeEnv.TCP_PORT ?? 4000))}`;
      // The volume the Engine would mount into each child holds the children's certificate: point at it directly.
      const childTls = composeEnv.MASTER_CHILD_TLS_DIR;
      if (childTls && !isAbsolute(childTls)) {
        const named = Object.entries(file.volumes ?? {}).find(
          ([key, v]) => key === childTls || (v as { name?: string } | null)?.name === childTls,
        )?.[0];
        for (const key of ['MASTER_CHILD_TLS_CERT', 'MASTER_CHILD_TLS_KEY'] as const)
          if (named && composeEnv[key]) env[key] = join(volumeDir(named), posix.basename(composeEnv[key]));
        delete env.MASTER_CHILD_TLS_DIR;
      }
      notes.push(
        `${name}: MASTER_SPAWNER=docker -> process (children are local processes dialing ${env.MASTER_ADVERTISE_ADDR})`,
      );
    }
    const health = composeHealthUrl(s);
    const httpContainer = Number(composeEnv.HTTP_PORT ?? DEFAULT_HTTP_PORT);
    services.push({
      name,
      role,
      env,
      httpPort: ports.get(health?.port ?? httpContainer) ?? ports.get(httpContainer)!,
      healthPath: health?.path ?? '/health/ready',
      dependsOn: dependsOn(s),
      restart: restartPolicy(s.restart),
      stopGraceMs: durationMs(s.stop_grace_period, 10_000),
      job: spec?.job === true,
      ports: Object.fromEntries(ports),
      published: Object.fromEntries(publishedMap.get(name)!),
    });
  }
  for (const name of unsupported) notes.push(`${name}: not a role, PostgreSQL or Traefik; not run locally`);
  const postgres = postgresEntry && {
    name: postgresEntry[0],
    database: postgresEntry[1].environment?.POSTGRES_DB ?? 'polyrole',
  };
  if (postgres)
    notes.push(`${postgres.name}: an embedded PostgreSQL (same database name, its own superuser)`);
  return { services, postgres, gateway, certs, unsupported, notes, rewrite };
}

function composeHealthUrl(s: ComposeService): { port: number; path: string } | undefined {
  const test = s.healthcheck?.test;
  const text = Array.isArray(test) ? test.join(' ') : (test ?? '');
  const m = text.match(HEALTH_URL);
  return m ? { port: Number(m[1]), path: m[2] } : undefined;
}

/** The host file Traefik's `--providers.file.filename` points at, through the service's bind mounts. */
function routesFileOf(s: ComposeService, composeDir: string): string {
  const flag = (s.command ?? []).find((c) => c.startsWith('--providers.file.filename='));
  if (!flag) throw new ComposeError(['the gateway has no --providers.file.filename to read routes from']);
  const inContainer = flag.split('=')[1];
  const mount = bindMounts(s, composeDir).find(
    ([container]) => inContainer === container || inContainer.startsWith(`${container}/`),
  );
  if (!mount) throw new ComposeError([`the gateway's routes file ${inContainer} is not a bind mount`]);
  return mount[1] + inContainer.slice(mount[0].length);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Services in start order: each after everything it depends on. Throws on a cycle or an unknown name. */
export function startOrder(
  services: { name: string; dependsOn: Record<string, unknown> }[],
  known: string[],
) {
  const byName = new Map(services.map((s) => [s.name, s]));
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting')
      throw new ComposeError([`depends_on cycle: ${[...path, name].join(' -> ')}`]);
    state.set(name, 'visiting');
    for (const dep of Object.keys(byName.get(name)?.dependsOn ?? {})) {
      if (!byName.has(dep) && !known.includes(dep)) {
        throw new ComposeError([`${name} depends on unknown service ${dep}`]);
      }
      visit(dep, [...path, name]);
    }
    state.set(name, 'done');
    if (byName.has(name)) order.push(name);
  };
  for (const s of services) visit(s.name, []);
  return order;
}
