// Picks and configures the spawner named by MASTER_SPAWNER from the master's settings.
import { dirname, join } from 'node:path';
import type { MasterSettings } from '../master.settings.js';
import type { ChildSpawner } from './child-spawner.js';
import { DockerSpawner } from './docker.spawner.js';
import { ProcessSpawner, type ProcessSpawnerOptions } from './process.spawner.js';

export interface SpawnerExtras {
  /** Environment every child gets besides its own (log level...). */
  baseEnv?: Record<string, string>;
  /** Process spawner only: command and arguments instead of `node dist/main.js`. */
  process?: Pick<ProcessSpawnerOptions, 'command' | 'args' | 'stdout' | 'spawn'>;
}

export async function createChildSpawner(
  s: MasterSettings,
  extras: SpawnerExtras = {},
): Promise<ChildSpawner> {
  switch (s.spawner) {
    case 'process':
      return new ProcessSpawner({ graceMs: s.childStopGraceMs, baseEnv: extras.baseEnv, ...extras.process });
    case 'docker':
      return new DockerSpawner({
        dockerHost: s.dockerHost,
        image: s.childImage,
        network: s.childNetwork,
        masterName: s.name,
        stopGraceMs: s.childStopGraceMs,
        baseEnv: extras.baseEnv,
        childBind:
          s.childTlsDir && s.childTlsCert
            ? { source: s.childTlsDir, target: dirname(s.childTlsCert) }
            : undefined,
      });
    case 'kubernetes': {
      // Loaded only here: importing @kubernetes/client-node adds about half a second to every master's boot.
      const { kubernetesApiUrl, KubernetesSpawner } = await import('./kubernetes.spawner.js');
      return new KubernetesSpawner({
        // Set: the settings policy refuses MASTER_SPAWNER=kubernetes without it.
        apiUrl: kubernetesApiUrl(s.kubernetesServiceHost!, s.kubernetesServicePort),
        tokenPath: join(s.serviceAccountDir, 'token'),
        caPath: join(s.serviceAccountDir, 'ca.crt'),
        namespacePath: join(s.serviceAccountDir, 'namespace'),
        image: s.childImage,
        masterName: s.name,
        ttlSecondsAfterFinished: s.childJobTtlSeconds,
        cpuLimit: s.childCpuLimit,
        memoryLimit: s.childMemoryLimit,
        stopGraceMs: s.childStopGraceMs,
        activeDeadlineSeconds: Math.ceil(s.childTimeoutMs / 1000) + Math.ceil(s.childStopGraceMs / 1000),
        baseEnv: extras.baseEnv,
        childSecret:
          s.childTlsSecret && s.childTlsCert
            ? { name: s.childTlsSecret, mountPath: dirname(s.childTlsCert) }
            : undefined,
      });
    }
  }
}
