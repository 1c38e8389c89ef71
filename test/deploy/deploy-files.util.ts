// Reads the deployment files (docker-compose.yml, the rendered k8s/ kustomization) and derives from the role
// table what they must contain, so the deploy specs compare the three without a container engine.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import {
  loadComposeFile,
  type ComposeFile as ParsedComposeFile,
  type ComposeService,
} from '../../docker/compose-local/compose-file.js';
import {
  ROLE_NAMES,
  ROLE_TABLE,
  type Listener,
  type RoleName,
  type RoleSpec,
} from '../../src/roles/role-table.js';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** The container-default port of each listener (DESIGN.md, "Roles"). */
export const LISTENER_PORTS: Record<Listener, number> = { http: 3000, tcp: 4000, echo: 12345, grpc: 50051 };
export const LISTENER_PORT_ENV: Record<Listener, string> = {
  http: 'HTTP_PORT',
  tcp: 'TCP_PORT',
  echo: 'ECHO_PORT',
  grpc: 'GRPC_PORT',
};
/** The gateway / Ingress path prefixes of issue 7. */
export const ROUTED_ROLES: RoleName[] = [
  'exchange',
  'generator',
  'calculator',
  'auth',
  'transaction',
  'master',
];
/** Roles scaled horizontally (PodDisruptionBudget + HorizontalPodAutoscaler). */
export const STATELESS_HTTP_ROLES: RoleName[] = [
  'exchange',
  'generator',
  'calculator',
  'auth',
  'transaction',
];

export const spec = (role: RoleName): RoleSpec => ROLE_TABLE[role];

/** A role that is spawned by another (a call to a job is a spawn: a job serves no calls), never deployed alone. */
export const isSpawned = (role: RoleName): boolean =>
  ROLE_NAMES.some((caller) => (spec(caller).calls as readonly RoleName[]).includes(role) && !!spec(role).job);

/** Roles that run as their own compose service / Kubernetes workload. */
export const DEPLOYED_ROLES: RoleName[] = ROLE_NAMES.filter((r) => !isSpawned(r));

export interface Edge {
  from: RoleName;
  to: RoleName;
  port: number;
}

/** Calls that travel over the network: every call of the table except spawning a job. */
export function networkEdges(): Edge[] {
  return ROLE_NAMES.flatMap((from) =>
    (spec(from).calls as readonly RoleName[])
      .filter((to) => !spec(to).job)
      .map((to) => ({ from, to, port: calleePort(to) })),
  );
}

/** Spawn edges: a role "calling" a job starts it (master -> child). */
export function spawnEdges(): { from: RoleName; to: RoleName }[] {
  return ROLE_NAMES.flatMap((from) =>
    (spec(from).calls as readonly RoleName[]).filter((to) => !!spec(to).job).map((to) => ({ from, to })),
  );
}

/** The port a caller dials: Nest TCP when the callee has it, else its raw echo port. */
export function calleePort(role: RoleName): number {
  const listeners = spec(role).listeners as readonly Listener[];
  if (listeners.includes('tcp')) return LISTENER_PORTS.tcp;
  if (listeners.includes('echo')) return LISTENER_PORTS.echo;
  throw new Error(`role ${role} is called but has no TCP listener`);
}

/** `<ROLE>_ADDR`, e.g. ECHO_SERVER_ADDR. */
export const addrEnv = (role: RoleName): string => `${role.toUpperCase().replace(/-/g, '_')}_ADDR`;

export const edgeKey = (e: { from: string; to: string; port?: number }): string =>
  `${e.from}->${e.to}${e.port === undefined ? '' : `:${e.port}`}`;

// ---- docker-compose.yml ----

export type { ComposeService };
/** Ours declares its networks and volumes. */
export type ComposeFile = ParsedComposeFile & Required<Pick<ParsedComposeFile, 'networks' | 'volumes'>>;

export const composeEnvForTests = { JWT_SECRET: 'test-only-secret', POSTGRES_PASSWORD: 'test-only-password' };

/** docker-compose.yml with anchors merged and variables interpolated (defaults, plus composeEnvForTests). */
export function loadCompose(env: Record<string, string> = composeEnvForTests): ComposeFile {
  return loadComposeFile(join(repoRoot, 'docker-compose.yml'), env) as ComposeFile;
}

export { durationMs } from '../../docker/compose-local/compose-file.js';

export function composeHealthcheckCommand(service: ComposeService): string {
  const test = service.healthcheck?.test;
  return Array.isArray(test) ? test.join(' ') : (test ?? '');
}

// ---- k8s/ ----

export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; namespace?: string };
  [key: string]: any;
};

/**
 * Renders k8s/ with kubectl's built-in kustomize. The Secret's env file is git-ignored, so the tree is rendered
 * from a copy (k8s/ and the config/ base it includes) with secrets.env.example standing in for it.
 */
/** Renders k8s/ as shipped, or with `components` (e.g. mtls) switched on after `prepare` ran in the copy. */
export function renderKustomize(
  opts: { components?: string[]; prepare?: (k8sDir: string) => void } = {},
): Manifest[] {
  const work = mkdtempSync(join(tmpdir(), 'polyrole-kustomize-'));
  try {
    cpSync(join(repoRoot, 'k8s'), join(work, 'k8s'), { recursive: true });
    cpSync(join(repoRoot, 'config'), join(work, 'config'), { recursive: true });
    writeFileSync(
      join(work, 'k8s', 'secrets.env'),
      readFileSync(join(repoRoot, 'k8s', 'secrets.env.example')),
    );
    opts.prepare?.(join(work, 'k8s'));
    if (opts.components?.length) {
      const file = join(work, 'k8s', 'kustomization.yaml');
      const list = opts.components.map((c) => `  - ${c}`).join('\n');
      writeFileSync(file, `${readFileSync(file, 'utf8')}components:\n${list}\n`);
    }
    const out = execFileSync(kubectlPath(), ['kustomize', join(work, 'k8s')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return parseAllDocuments(out).map((d) => d.toJS() as Manifest);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export function kubectlPath(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('kubectl is required to render k8s/ (kubectl kustomize) but is not on PATH');
  }
}

export const roleLabel = 'app.kubernetes.io/name';

export function workloads(manifests: Manifest[]): Manifest[] {
  return manifests.filter((m) => ['Deployment', 'Job', 'StatefulSet'].includes(m.kind));
}

export function podSpec(workload: Manifest): any {
  return workload.spec.template.spec;
}

/** A container's environment with envFrom ConfigMaps resolved (explicit env wins, as in Kubernetes). */
export function containerEnv(
  container: any,
  manifests: Manifest[],
): Record<string, string | { from: string }> {
  const env: Record<string, string | { from: string }> = {};
  for (const source of container.envFrom ?? []) {
    const cm = manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name === source.configMapRef?.name);
    if (!cm) throw new Error(`envFrom names a missing ConfigMap ${JSON.stringify(source)}`);
    Object.assign(env, cm.data);
  }
  for (const e of container.env ?? []) {
    env[e.name] = e.value ?? { from: `${e.valueFrom.secretKeyRef?.name}/${e.valueFrom.secretKeyRef?.key}` };
  }
  return env;
}

export function roleOfWorkload(workload: Manifest, manifests: Manifest[]): string | undefined {
  const env = containerEnv(podSpec(workload).containers[0], manifests);
  return typeof env.ROLE === 'string' ? env.ROLE : undefined;
}

/** The `ROLE` -> workload map of the rendered manifests (PostgreSQL has no ROLE and is left out). */
export function roleWorkloads(manifests: Manifest[]): Map<string, Manifest> {
  const map = new Map<string, Manifest>();
  for (const w of workloads(manifests)) {
    const role = roleOfWorkload(w, manifests);
    if (role) map.set(role, w);
  }
  return map;
}
