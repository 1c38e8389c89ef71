// Boots the roles named by ROLE: resolves and validates every setting the booted parts need, starts the
// database (embedded when DATABASE_URL is unset), opens exactly the role's listeners and owns graceful shutdown.
import 'reflect-metadata';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { resolve } from 'node:path';
import type { DataSource } from 'typeorm';
import { BootContext, type PeerTarget } from '../platform/boot-context.js';
import { hostPortList } from '../platform/config/parsers.js';
import {
  ConfigError,
  resolveSettings,
  type SettingsSchema,
  type SettingsSource,
} from '../platform/config/settings.js';
import { Database, createDataSource, openDatabase } from '../platform/database/database.js';
import { startEmbeddedPostgres } from '../platform/database/embedded-postgres.js';
import { configureHttpEdge, dropIdleAdapterHooks, fastifyOptions } from '../platform/http/http-edge.js';
import { unmarkedRoutes } from '../platform/http/route-access.check.js';
import {
  configureRootLogger,
  createLogger,
  flushLogs,
  NestPinoLogger,
  prettyDestination,
  prettyLogs,
} from '../platform/logging/logger.js';
import { startDefaultMetrics } from '../platform/metrics/metrics.js';
import { JOB, type Job, type ModulePart } from '../platform/part.js';
import { platformSettings, rpcPlaintextProblem, rpcPlaintextWarning } from '../platform/platform.settings.js';
import { PlatformModule } from '../platform/platform.module.js';
import { Lifecycle } from '../platform/shutdown/lifecycle.js';
import { RpcServer } from '../platform/transport/rpc-server.js';
import { RpcHub } from '../platform/transport/rpc-hub.js';
import { RpcRegistry } from '../platform/transport/rpc-registry.js';
import { serverTlsOptions } from '../platform/transport/rpc-tls.js';
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
  let resolved: Resolved;
  try {
    resolved = await resolveBoot(env);
  } catch (e) {
    if (e instanceof BootError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  const { parts, boot } = resolved;
  const platform = boot.platform;
  configureRootLogger({
    role: boot.roleLabel,
    level: platform.logLevel,
    destination: prettyLogs(platform.logFormat, platform.nodeEnv, process.stdout.isTTY === true)
      ? await prettyDestination()
      : undefined,
    accessLog: platform.logAccess,
  });
  startDefaultMetrics(boot.roleLabel);
  const log = createLogger('boot');
  const insecure = rpcPlaintextWarning(platform, usesNestTcp(parts, boot.peers));
  if (insecure) log.warn({ setting: 'RPC_INSECURE_PLAINTEXT' }, insecure);
  const started = Date.now();

  let stopEmbedded: (() => Promise<void>) | undefined;
  let dataSource: DataSource | undefined;
  const entities = parts.flatMap((p) => (p.entities ?? []) as Function[]);
  const migrations = parts.flatMap((p) => (p.migrations ?? []) as Function[]);
  const needsDatabase = entities.length > 0 || migrations.length > 0;

  try {
    if (needsDatabase) {
      let url = platform.databaseUrl;
      if (!url) {
        const pg = await startEmbeddedPostgres({
          dataDir: resolve(platform.dataDir, 'postgres'),
          log: (m) => log.info(m),
        });
        url = pg.url;
        stopEmbedded = pg.stop;
      }
      dataSource = await createDataSource({
        url,
        entities,
        migrations,
        applicationName: `polyrole:${boot.roleLabel}`,
      });
      const ran = await openDatabase(dataSource);
      if (ran.length) log.info({ migrations: ran }, 'migrations applied');
    }

    const app = await NestFactory.create<NestFastifyApplication>(
      rootModule(parts, boot, dataSource),
      new FastifyAdapter(fastifyOptions(platform.httpBodyLimit, platform.trustedProxies)),
      // JSON bodies keep Fastify's own parser (configureHttpEdge() registers the form parser Nest would add).
      { logger: new NestPinoLogger(), abortOnError: false, bodyParser: false },
    );
    configureHttpEdge(app, { bodyLimit: platform.httpBodyLimit });
    const fastify = app.getHttpAdapter().getInstance();
    let httpPort = platform.httpPort;
    fastify.addHook('onClose', (_i, done) => {
      log.info(`closed http listener :${httpPort}`);
      done();
    });

    const servesRpc = parts.some((p) => (p.serves?.length ?? 0) > 0);
    let tcpClosed: Promise<void> = Promise.resolve();
    const rpcServer = servesRpc
      ? new RpcServer({
          host: platform.tcpHost,
          port: platform.tcpPort,
          tlsOptions: serverTlsOptions(platform),
          callers: platform.rpcTls === 'mutual' ? callerPolicy(parts) : undefined,
          maxMessageBytes: platform.rpcMaxMessageBytes,
        })
      : undefined;
    if (rpcServer) app.connectMicroservice<MicroserviceOptions>({ strategy: rpcServer });

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

    const hub = app.get(RpcHub);
    await hub.start();
    if (rpcServer) {
      const registry = app.get(RpcRegistry);
      rpcServer.useHandlers((pattern) => registry.get(pattern));
      await app.startAllMicroservices();
      const tcp = app.getMicroservices()[0].unwrap<Server>();
      tcpClosed = new Promise((done) =>
        tcp.once('close', () => {
          log.info(`closed tcp listener :${platform.tcpPort}`);
          done();
        }),
      );
    }
    await app.listen(platform.httpPort, platform.httpHost);
    httpPort = (fastify.server.address() as { port: number }).port; // HTTP_PORT=0 (children) binds a free port
    log.info(
      {
        roles: boot.roles,
        modules: parts.map((p) => p.name),
        http: httpPort,
        ...(servesRpc ? { tcp: platform.tcpPort } : {}),
        bootMs: Date.now() - started,
      },
      'ready',
    );

    const lifecycle = app.get(Lifecycle);
    const database = app.get(Database);
    const job = parts.some((p) => p.job) ? app.get<Job>(JOB) : undefined;
    let shuttingDown = false;

    const shutdown = async (reason: string, code: number) => {
      if (shuttingDown) return;
      shuttingDown = true;
      lifecycle.beginShutdown();
      log.info({ reason }, 'shutdown started');
      const force = setTimeout(() => {
        log.error({ graceMs: platform.shutdownGraceMs }, 'shutdown grace period exceeded; exiting');
        void flushLogs(200).finally(() => process.exit(1));
      }, platform.shutdownGraceMs);
      force.unref();
      try {
        if (job && reason !== 'job finished') await job.stop();
        if (platform.shutdownDrainDelayMs > 0)
          await new Promise((r) => setTimeout(r, platform.shutdownDrainDelayMs));
        await app.close();
        await tcpClosed;
        await hub.close();
        await database.close();
        if (stopEmbedded) {
          await stopEmbedded();
          log.info('stopped embedded postgres');
        }
        log.info({ exitCode: code }, 'shutdown complete');
        await flushLogs();
        process.exit(code);
      } catch (err) {
        log.error({ err }, 'shutdown failed');
        await flushLogs();
        process.exit(1);
      }
    };
    process.once('SIGTERM', () => void shutdown('SIGTERM', 0));
    process.once('SIGINT', () => void shutdown('SIGINT', 0));
    process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection'));
    process.on('uncaughtException', (err) => {
      log.fatal({ err }, 'uncaught exception');
      void shutdown('uncaught exception', 1);
    });

    if (job) {
      const code = await job.run().catch((err) => {
        log.error({ err }, 'job failed');
        return 1;
      });
      await shutdown('job finished', code);
    }
  } catch (err) {
    if (err instanceof BootError) log.fatal(err.message);
    else log.fatal({ err }, 'boot failed');
    process.stderr.write(`boot failed: ${(err as Error).message}\n`);
    await dataSource?.destroy().catch(() => undefined);
    await stopEmbedded?.().catch(() => undefined);
    await flushLogs();
    process.exit(1);
  }
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
