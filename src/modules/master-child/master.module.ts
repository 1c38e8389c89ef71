// The master part: HTTP to start and watch children, the master contract on the role's TCP listener for their
// reports, the progress tables, and the spawner named by MASTER_SPAWNER.
import {
  tracingEnvOf,
  tracingSettings,
  type TracingSettings,
} from '../../platform/tracing/tracing.settings.js';
import { Module } from '@nestjs/common';
import { BootContext } from '../../platform/boot-context.js';
import type { HostPort } from '../../platform/config/parsers.js';
import { createLogger } from '../../platform/logging/logger.js';
import { definePart } from '../../platform/part.js';
import type { PlatformSettings } from '../../platform/platform.settings.js';
import {
  CHILD_NUMBERS,
  CHILD_SPAWNER,
  CHILDREN_OPTIONS,
  ChildrenService,
  type ChildrenOptions,
} from './children.service.js';
import { ChildStartLimiter } from './child-start.limiter.js';
import { MasterContract } from './contract.js';
import { MasterController } from './master.controller.js';
import { masterSettings, type MasterSettings } from './master.settings.js';
import { PROGRESS_MIGRATIONS } from './progress/migrations/1763794000000-master-progress.migration.js';
import { PROGRESS_ENTITIES } from './progress/progress.entity.js';
import { ProgressService } from './progress/progress.service.js';
import { createChildSpawner } from './spawners/spawner.factory.js';

const WILDCARD_HOSTS = new Set(['', '0.0.0.0', '::', '[::]']);

/**
 * Where children dial: MASTER_ADVERTISE_ADDR, else this master's TCP port on loopback for local processes, else
 * `<MASTER_NAME>:<TCP_PORT>` (the compose service / Kubernetes Service name) for containers.
 */
export function advertiseAddrOf(s: MasterSettings, p: PlatformSettings): HostPort {
  if (s.advertiseAddr) return s.advertiseAddr;
  if (s.spawner === 'process')
    return { host: WILDCARD_HOSTS.has(p.tcpHost) ? '127.0.0.1' : p.tcpHost, port: p.tcpPort };
  return { host: s.name, port: p.tcpPort };
}

/**
 * What a child inherits from its master besides its own variables: logging, the RPC settings and how to reach the
 * master, and where its spans go. Under mutual TLS the child presents its own certificate (role child), never the master's.
 */
export function childBaseEnv(
  p: PlatformSettings,
  s: MasterSettings,
  tracing?: TracingSettings,
): Record<string, string> {
  if (p.rpcTls === 'mutual' && (!s.childTlsCert || !s.childTlsKey))
    throw new Error('RPC_TLS=mutual needs MASTER_CHILD_TLS_CERT and MASTER_CHILD_TLS_KEY for the children');
  const tls: Record<string, string | undefined> =
    p.rpcTls === 'off'
      ? {}
      : {
          RPC_TLS: p.rpcTls === 'mutual' ? 'mutual' : 'true',
          RPC_TLS_CA: p.rpcTlsCa,
          RPC_TLS_CERT: p.rpcTls === 'mutual' ? s.childTlsCert : p.rpcTlsCert,
          RPC_TLS_KEY: p.rpcTls === 'mutual' ? s.childTlsKey : p.rpcTlsKey,
        };
  return {
    NODE_ENV: p.nodeEnv,
    LOG_LEVEL: p.logLevel,
    RPC_TIMEOUT_MS: String(p.rpcTimeoutMs),
    RPC_RETRIES: String(p.rpcRetries),
    RPC_MAX_MESSAGE_BYTES: String(p.rpcMaxMessageBytes),
    ...(tracing ? tracingEnvOf(tracing) : {}),
    // An operator who let the master run without mutual TLS let its children do so too.
    ...(p.rpcInsecurePlaintext ? { RPC_INSECURE_PLAINTEXT: 'true' } : {}),
    ...(Object.fromEntries(Object.entries(tls).filter(([, v]) => v !== undefined)) as Record<string, string>),
  };
}

@Module({
  controllers: [MasterController],
  providers: [
    ProgressService,
    ChildrenService,
    ChildStartLimiter,
    { provide: CHILD_NUMBERS, useExisting: ProgressService },
    {
      provide: CHILDREN_OPTIONS,
      inject: [BootContext],
      useFactory: (boot: BootContext): ChildrenOptions => {
        const s = boot.settings(masterSettings);
        return {
          range: s.range,
          maxChildren: s.maxChildren,
          childTimeoutMs: s.childTimeoutMs,
          advertiseAddr: advertiseAddrOf(s, boot.platform),
          childSeed: s.childSeed,
          childBatchSize: s.childBatchSize,
          // The rest of the budget closes the listeners, the clients and the database after the children.
          stopWaitMs: Math.floor((boot.platform.shutdownGraceMs * 3) / 4),
        };
      },
    },
    {
      provide: CHILD_SPAWNER,
      inject: [BootContext],
      useFactory: (boot: BootContext) => {
        const s = boot.settings(masterSettings);
        // Children must be gone before the master's own shutdown deadline, or they would outlive it.
        const graceMs = Math.min(s.childStopGraceMs, Math.floor(boot.platform.shutdownGraceMs / 2));
        if (graceMs < s.childStopGraceMs) {
          createLogger('master-children').warn(
            { childStopGraceMs: s.childStopGraceMs, usedMs: graceMs },
            'MASTER_CHILD_STOP_GRACE_MS shortened to half of SHUTDOWN_GRACE_MS',
          );
        }
        return createChildSpawner(
          { ...s, childStopGraceMs: graceMs },
          // A local child's logs join the master's, as a container's join the compose log.
          {
            baseEnv: childBaseEnv(boot.platform, s, boot.settings(tracingSettings)),
            process: { stdout: 'inherit' },
          },
        );
      },
    },
  ],
})
export class MasterModule {}

export const masterPart = definePart({
  name: 'master',
  module: MasterModule,
  settings: masterSettings,
  entities: PROGRESS_ENTITIES,
  migrations: PROGRESS_MIGRATIONS,
  serves: [MasterContract],
});
