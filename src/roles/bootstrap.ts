// Boots the roles named by ROLE: resolves and validates every setting the booted parts need, starts the
// database (embedded when DATABASE_URL is unset), opens exactly the role's listeners and registers each resource
// with the shutdown sequence as it opens.
import 'reflect-metadata';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { DataSource } from 'typeorm';
import { BootContext, type PeerTarget } from '../platform/boot-context.js';
import { hostPortList } from '../platform/config/parsers.js';
import {
  ConfigError,
  resolveSettings,
  type SettingsSchema,
  type SettingsSource,
} from '../platform/config/settings.js';
import { createDataSource, openDatabase } from '../platform/database/database.js';
import { startEmbeddedPostgres } from '../platform/database/embedded-postgres.js';
import { configureHttpEdge, dropIdleAdapterHooks, fastifyOptions } from '../platform/http/http-edge.js';
import { operatorRefusal } from '../platform/http/operations.guard.js';
import { unmarkedRoutes } from '../platform/http/route-access.check.js';
import {
  type AppLogger,
  configureRootLogger,
  createLogger,
  NestPinoLogger,
  prettyDestination,
  prettyLogs,
} from '../platform/logging/logger.js';
import { startIdleHeapTrim } from '../platform/memory/idle-heap-trim.js';
import { startDefaultMetrics } from '../platform/metrics/metrics.js';
import { JOB, type Job, type ModulePart } from '../platform/part.js';
import { platformSettings, rpcPlaintextProblem, rpcPlaintextWarning } from '../platform/platform.settings.js';
import { PlatformModule } from '../platform/platform.module.js';
import { Lifecycle } from '../platform/shutdown/lifecycle.js';
import { ShutdownSequence } from '../platform/shutdown/shutdown-sequence.js';
import { RpcServer } from '../platform/transport/rpc-server.js';
import { RpcHub } from '../platform/transport/rpc-hub.js';
import { RpcRegistry } from '../platform/transport/rpc-registry.js';
import { serverTlsOptions } from '../platform/transport/rpc-tls.js';
import { startTracing } from '../platform/tracing/tracing.js';
import { tracingSettings } from '../platform/tracing/tracing.settings.js';
import { callerPolicy } from './caller-policy.js';
import { ConsoleModule } from './console/console.module.js';
import { consoleSettings } from './console/console.settings.js';
import { PARTS } from './parts.js';
import {
  hostRoleOf,
  parseRoles,
  partName,
  partsOf,
  RoleSelectionError,
  type PartName,
  type RoleName,
} from './role-table.js';

export class BootError extends Error {}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    return String(pkg.version);
  } catch {
    return 'unknown';
  }
}

/** The peer-address setting of a part, e.g. EXCHANGE_ADDR defaulting to exchange:4000. */
function peerSetting(part: PartName) {
  const role = hostRoleOf(part);
  const env = `${role.toUpperCase().replace(/-/g, '_')}_ADDR`;
  return {
    role,
    env,
    schema: { addresses: { env, default: [{ host: role, port: 4000 }], parse: hostPortList() } },
  };
}

/** Whether the process opens a Nest TCP listener or calls a peer over one (in-process calls are not TCP). */
function usesNestTcp(parts: ModulePart[], peers: ReadonlyMap<string, PeerTarget>): boolean {
  return peers.size > 0 || parts.some((p) => (p.serves?.length ?? 0) > 0);
}

export interface Resolved {
  roles: RoleName[];
  parts: ModulePart[];
  boot: BootContext;
}

/** Parses ROLE and every setting at once. Throws BootError with one message naming every problem. */
export async function resolveBoot(env: Record<string, string | undefined>): Promise<Resolved> {
  let roles: RoleName[];
  try {
    roles = parseRoles(env.ROLE);
  } catch (e) {
    if (e instanceof RoleSelectionError) throw new BootError(e.message);
    throw e;
  }
  const parts = await Promise.all(partsOf(roles).map((name) => PARTS[name]()));
  const source: SettingsSource = { env, configDir: resolve(env.CONFIG_DIR ?? './config') };
  const values = new Map<SettingsSchema, unknown>();
  const problems: string[] = [];
  const resolveInto = (schema: SettingsSchema) => {
    try {
      values.set(schema, resolveSettings(schema, source));
    } catch (e) {
      if (e instanceof ConfigError) problems.push(...e.problems);
      else throw e;
    }
  };
  // Policies (production needs a JWT_SECRET) are checked here with every other setting, before any database,
  // listener or child starts. They need only NODE_ENV, so another bad platform setting does not hide them.
  try {
    const { nodeEnv } = resolveSettings({ nodeEnv: platformSettings.nodeEnv }, source);
    source.deployment = { production: nodeEnv === 'production' };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e; // reported below with the rest of the platform settings
  }
  resolveInto(platformSettings);
  resolveInto(consoleSettings);
  resolveInto(tracingSettings);
  for (const part of parts) if (part.settings && !values.has(part.settings)) resolveInto(part.settings);

  const peers = new Map<PartName, PeerTarget>();
  const local = new Set(parts.map((p) => p.name));
  for (const part of parts) {
    for (const contract of part.calls ?? []) {
      const called = partName(contract.part);
      if (local.has(called) || peers.has(called)) continue;
      const { role, env: name, schema } = peerSetting(called);
      try {
        const { addresses } = resolveSettings(schema, source);
        peers.set(called, { part: called, role, setting: name, addresses });
      } catch (e) {
        if (e instanceof ConfigError) problems.push(...e.problems);
        else throw e;
      }
    }
  }
  const platform = values.get(platformSettings) as BootContext['platform'] | undefined;
  const plaintext = platform && rpcPlaintextProblem(platform, usesNestTcp(parts, peers));
  if (plaintext) problems.push(plaintext);
  if (problems.length > 0 || !platform)
    throw new BootError(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  const boot = new BootContext(roles, parts, platform, values, peers, platform.databaseUrl, version());
  return { roles, parts, boot };
}

export async function bootstrap(env: Record<string, string | undefined>): Promise<void> {
  const { parts, boot } = await resolveOrExit(env);
  const log = await startLogsAndMetrics(boot);
  const insecure = rpcPlaintextWarning(boot.platform, usesNestTcp(parts, boot.peers));
  if (insecure) log.warn({ setting: 'RPC_INSECURE_PLAINTEXT' }, insecure);
  const started = Date.now();
  const shutdown = new ShutdownSequence({ graceMs: boot.platform.shutdownGraceMs, log });
  const tracing = await startTracing({
    settings: boot.settings(tracingSettings),
    role: boot.roleLabel,
    version: boot.version,
    production: boot.platform.nodeEnv === 'production',
    warn: (message) => createLogger('tracing').warn(message),
  });
  // Registered first, so it runs last: the spans of everything that closes before it are exported too.
  shutdown.add('span export', () => tracing.shutdown());
  try {
    const dataSource = await startDatabase(parts, boot, shutdown, log);
    const { app, rpcServer } = await createApp(parts, boot, dataSource, shutdown);
    const ports = await openListeners(app, rpcServer, boot, shutdown, log);
    const trim = startIdleHeapTrim({ idleMs: boot.platform.heapTrimIdleMs, log: createLogger('memory') });
    shutdown.add('idle heap trim', () => trim.stop());
    log.info(
      { roles: boot.roles, modules: parts.map((p) => p.name), ...ports, bootMs: Date.now() - started },
      'ready',
    );
    const job = parts.some((p) => p.job) ? app.get<Job>(JOB) : undefined;
    prepareShutdown(app, boot, shutdown, job);
    process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
    if (job) await runJob(job, shutdown, log);
  } catch (err) {
    if (err instanceof BootError) log.fatal(err.message);
    else log.fatal({ err }, 'boot failed');
    process.stderr.write(`boot failed: ${(err as Error).message}\n`);
    await shutdown.run('boot failed', 1);
  }
}

async function resolveOrExit(env: Record<string, string | undefined>): Promise<Resolved> {
  try {
    return await resolveBoot(env);
  } catch (e) {
    if (!(e instanceof BootError)) throw e;
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  }
}

async function startLogsAndMetrics(boot: BootContext): Promise<AppLogger> {
  const platform = boot.platform;
  configureRootLogger({
    role: boot.roleLabel,
    level: platform.logLevel,
    destination: prettyLogs(platform.logFormat, platform.nodeEnv, process.stdout.isTTY === true)
      ? await prettyDestination()
      : undefined,
    accessLog: platform.logAccess,
  });
  await startDefaultMetrics(boot.roleLabel);
  return createLogger('boot');
}

/** The parts' tables, on DATABASE_URL or an embedded server; undefined for a role that owns no tables. */
async function startDatabase(
  parts: ModulePart[],
  boot: BootContext,
  shutdown: ShutdownSequence,
  log: AppLogger,
): Promise<DataSource | undefined> {
  const entities = parts.flatMap((p) => (p.entities ?? []) as Function[]);
  const migrations = parts.flatMap((p) => (p.migrations ?? []) as Function[]);
  if (entities.length === 0 && migrations.length === 0) return undefined;
  let url = boot.platform.databaseUrl;
  if (!url) {
    const pg = await startEmbeddedPostgres({
      dataDir: resolve(boot.platform.dataDir, 'postgres'),
      log: (m) => log.info(m),
    });
    shutdown.add('embedded postgres', pg.stop);
    url = pg.url;
  }
  const dataSource = await createDataSource({
    url,
    entities,
    migrations,
    applicationName: `polyrole:${boot.roleLabel}`,
  });
  shutdown.add('database pool', async () => {
    if (dataSource.isInitialized) await dataSource.destroy();
  });
  const ran = await openDatabase(dataSource);
  if (ran.length) log.info({ migrations: ran }, 'migrations applied');
  return dataSource;
}

/** The Nest application on Fastify, with the RPC server attached when a part serves patterns, and its docs. */
async function createApp(
  parts: ModulePart[],
  boot: BootContext,
  dataSource: DataSource | undefined,
  shutdown: ShutdownSequence,
): Promise<{ app: NestFastifyApplication; rpcServer?: RpcServer }> {
  const platform = boot.platform;
  const app = await NestFactory.create<NestFastifyApplication>(
    rootModule(parts, boot, dataSource),
    new FastifyAdapter(fastifyOptions(platform.httpBodyLimit, platform.trustedProxies)),
    // JSON bodies keep Fastify's own parser (configureHttpEdge() registers the form parser Nest would add).
    { logger: new NestPinoLogger(), abortOnError: false, bodyParser: false },
  );
  // Registered before the application: the clients outlive its shutdown hooks, which may still call other roles.
  const hub = app.get(RpcHub);
  shutdown.add('rpc clients', () => hub.close());
  // The OpenAPI pages, like /about and /metrics, want the operator's token in production.
  configureHttpEdge(
    app,
    { bodyLimit: platform.httpBodyLimit },
    { prefix: '/docs', refusal: (req) => operatorRefusal(platform, req) },
  );
  let rpcServer: RpcServer | undefined;
  if (parts.some((p) => (p.serves?.length ?? 0) > 0)) {
    rpcServer = new RpcServer({
      host: platform.tcpHost,
      port: platform.tcpPort,
      tlsOptions: serverTlsOptions(platform),
      callers: platform.rpcTls === 'mutual' ? callerPolicy(parts) : undefined,
      maxMessageBytes: platform.rpcMaxMessageBytes,
    });
    app.connectMicroservice<MicroserviceOptions>({ strategy: rpcServer });
  }
  const docs = new DocumentBuilder()
    .setTitle(`polyrole — ${boot.roleLabel}`)
    .setDescription(`Modules: ${parts.map((p) => p.name).join(', ')}`)
    .setVersion(boot.version)
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, docs));

  await app.init();
  await dropIdleAdapterHooks(app);
  const unmarked = unmarkedRoutes(app);
  if (unmarked.length > 0)
    throw new BootError(`Routes without @Public() or @Protected(): ${unmarked.join(', ')}`);
  await hub.start();
  return { app, rpcServer };
}

/** Opens the TCP listener (when the role serves patterns), then HTTP; closing the application closes both. */
async function openListeners(
  app: NestFastifyApplication,
  rpcServer: RpcServer | undefined,
  boot: BootContext,
  shutdown: ShutdownSequence,
  log: AppLogger,
): Promise<{ http: number; tcp?: number }> {
  const platform = boot.platform;
  let tcpClosed = Promise.resolve();
  if (rpcServer) {
    const registry = app.get(RpcRegistry);
    rpcServer.useHandlers((pattern) => registry.get(pattern));
    await app.startAllMicroservices();
    const tcp = app.getMicroservices()[0].unwrap<Server>();
    tcpClosed = once(tcp, 'close').then(() => log.info(`closed tcp listener :${platform.tcpPort}`));
  }
  shutdown.add('application', async () => {
    await app.close();
    await tcpClosed;
  });
  await app.listen(platform.httpPort, platform.httpHost);
  const fastify = app.getHttpAdapter().getInstance();
  const http = (fastify.server.address() as { port: number }).port; // HTTP_PORT=0 (children) binds a free port
  fastify.server.once('close', () => log.info(`closed http listener :${http}`));
  return rpcServer ? { http, tcp: platform.tcpPort } : { http };
}

/** Readiness turns false first, then the drain delay, then a running job stops, then the resources close. */
function prepareShutdown(
  app: NestFastifyApplication,
  boot: BootContext,
  shutdown: ShutdownSequence,
  job: Job | undefined,
): void {
  const lifecycle = app.get(Lifecycle);
  const drainMs = boot.platform.shutdownDrainDelayMs;
  shutdown.onBegin(() => lifecycle.beginShutdown());
  if (drainMs > 0) shutdown.onBegin(() => delay(drainMs));
  if (job) shutdown.add('job', () => job.stop());
  shutdown.handleSignals();
}

async function runJob(job: Job, shutdown: ShutdownSequence, log: AppLogger): Promise<void> {
  const code = await job.run().catch((err) => {
    log.error({ err }, 'job failed');
    return 1;
  });
  await shutdown.run('job finished', code);
}

function rootModule(
  parts: ModulePart[],
  boot: BootContext,
  dataSource: DataSource | undefined,
): DynamicModule {
  @Module({})
  class RootModule {}
  return {
    module: RootModule,
    imports: [PlatformModule.forRoot(boot, dataSource), ConsoleModule, ...parts.map((p) => p.module)],
  };
}
