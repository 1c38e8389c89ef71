// The deployment files agree with the role table: one service / workload per role with the right ROLE,
// probes on the health paths, the listeners' ports, and exactly the table's calls as depends_on edges and as
// NetworkPolicy edges. These catch what schema validation cannot (unknown fields, wrong names, drift).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROLE_NAMES, type Listener, type RoleName } from '../../src/roles/role-table.js';
import {
  addrEnv,
  type ComposeFile,
  composeHealthcheckCommand,
  containerEnv,
  DEPLOYED_ROLES,
  durationMs,
  edgeKey,
  isSpawned,
  LISTENER_PORT_ENV,
  LISTENER_PORTS,
  loadCompose,
  type Manifest,
  networkEdges,
  podSpec,
  renderKustomize,
  repoRoot,
  roleLabel,
  roleWorkloads,
  ROUTED_ROLES,
  spawnEdges,
  spec,
  STATELESS_HTTP_ROLES,
} from './deploy-files.util.js';

const HEALTH_PATHS = ['/health/live', '/health/ready'];
const sorted = (xs: Iterable<string>): string[] => [...xs].sort();

/** Kubernetes quantities: `50m` or `'1'` CPU; `128Mi`, `1Gi` memory. Anything else is NaN, which fails every check. */
function cpuCores(q: unknown): number {
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(String(q));
  return m ? Number(m[1]) / (m[2] ? 1000 : 1) : NaN;
}
function memoryBytes(q: unknown): number {
  const units: Record<string, number> = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };
  const m = /^(\d+)(Ki|Mi|Gi)$/.exec(String(q));
  return m ? Number(m[1]) * units[m[2]] : NaN;
}
/** Every role serves HTTP; the table lists it too, the union keeps that true if it ever stops listing it. */
const listenersOf = (role: RoleName): Listener[] => [
  ...new Set<Listener>(['http', ...(spec(role).listeners as readonly Listener[])]),
];
const databaseRoles = ROLE_NAMES.filter((r) => spec(r).database);
/** Roles that serve Nest TCP or call a role that does (echo-client's calls are raw TCP): compose runs them under mutual TLS. */
const nestTcpRoles = DEPLOYED_ROLES.filter(
  (r) =>
    listenersOf(r).includes('tcp') ||
    spec(r).calls.some(
      (c) =>
        ROLE_NAMES.includes(c as RoleName) &&
        (spec(c as RoleName).listeners as readonly string[]).includes('tcp'),
    ),
);

describe('docker-compose.yml against the role table', () => {
  let compose: ComposeFile;
  const service = (role: string) => compose.services[role];

  beforeAll(() => {
    compose = loadCompose();
  });

  it('has a service per deployed role, named after it, whose ROLE is that role', () => {
    const roleServices = Object.entries(compose.services).filter(([, s]) => s.environment?.ROLE);

    expect(roleServices.map(([name, s]) => `${name}=${s.environment?.ROLE}`).sort()).toEqual(
      DEPLOYED_ROLES.map((r) => `${r}=${r}`).sort(),
    );
  });

  it('checks every role with a healthcheck on its HTTP port and a health path', () => {
    for (const role of DEPLOYED_ROLES) {
      const command = composeHealthcheckCommand(service(role));
      const url = command.match(/http:\/\/127\.0\.0\.1:(\d+)(\/[\w/]+)/);

      expect({ role, port: Number(url?.[1]) }).toEqual({ role, port: LISTENER_PORTS.http });
      expect(HEALTH_PATHS).toContain(url?.[2]);
    }
  });

  it('sets each role exactly its listeners` port variables, at the container defaults', () => {
    for (const role of DEPLOYED_ROLES) {
      const env = service(role).environment ?? {};
      const portEnv = Object.fromEntries(
        Object.values(LISTENER_PORT_ENV)
          .filter((name) => env[name] !== undefined)
          .map((name) => [name, Number(env[name])]),
      );
      const expected = Object.fromEntries(
        listenersOf(role).map((l) => [LISTENER_PORT_ENV[l], LISTENER_PORTS[l]]),
      );

      expect({ role, portEnv }).toEqual({ role, portEnv: expected });
    }
  });

  it('gives each role a peer address for exactly the roles it calls, at the callee`s service and port', () => {
    const addresses = DEPLOYED_ROLES.flatMap((role) =>
      Object.entries(service(role).environment ?? {})
        .filter(([name]) => name.endsWith('_ADDR'))
        .map(([name, value]) => `${role}: ${name}=${value}`),
    );
    const expected = networkEdges()
      .filter((e) => !isSpawned(e.from))
      .map((e) => `${e.from}: ${addrEnv(e.to)}=${e.to}:${e.port}`);

    expect(sorted(addresses)).toEqual(sorted(expected));
  });

  it('makes depends_on cover exactly the calls between services, postgres for tables, certs for Nest TCP', () => {
    const edges = DEPLOYED_ROLES.flatMap((role) =>
      Object.entries(service(role).depends_on ?? {}).map(([to, d]) => `${role}->${to} ${d.condition}`),
    );
    const expected = [
      ...networkEdges()
        .filter((e) => !isSpawned(e.from))
        .map((e) => `${e.from}->${e.to} service_healthy`),
      ...databaseRoles.map((r) => `${r}->postgres service_healthy`),
      ...nestTcpRoles.map((r) => `${r}->certs service_completed_successfully`),
    ];

    expect(sorted(edges)).toEqual(sorted(expected));
  });

  it('gives DATABASE_URL to the roles with tables only, and JWT_SECRET to auth only', () => {
    const holders = (name: string) =>
      DEPLOYED_ROLES.filter((r) => service(r).environment?.[name] !== undefined);

    expect(holders('DATABASE_URL').sort()).toEqual([...databaseRoles].sort());
    expect(holders('JWT_SECRET')).toEqual(['auth']);
  });

  it('requires JWT_SECRET from the environment instead of a default', () => {
    const raw = parse(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8'), { merge: true });

    expect(raw.services.auth.environment.JWT_SECRET).toMatch(/^\$\{JWT_SECRET:\?.+\}$/);
  });

  it('requires POSTGRES_PASSWORD from the environment instead of a default, for the server and every client', () => {
    const text = readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8');
    const raw = parse(text, { merge: true });

    expect(raw.services.postgres.environment.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?.+\}$/);
    expect(text).not.toMatch(/POSTGRES_PASSWORD:-/);
    expect(loadCompose().services.auth.environment?.DATABASE_URL).toContain(':test-only-password@');
  });

  it('gives every role a stop_grace_period longer than its SHUTDOWN_GRACE_MS, and a restart policy', () => {
    for (const role of DEPLOYED_ROLES) {
      const s = service(role);

      expect(['unless-stopped', 'on-failure']).toContain(s.restart);
      expect(durationMs(s.stop_grace_period ?? '0s')).toBeGreaterThan(
        Number(s.environment?.SHUTDOWN_GRACE_MS),
      );
    }
  });

  it('mounts config/ read-only at CONFIG_DIR in every role', () => {
    for (const role of DEPLOYED_ROLES) {
      const s = service(role);

      expect({ role, volumes: s.volumes }).toEqual({
        role,
        volumes: expect.arrayContaining([`./config:${s.environment?.CONFIG_DIR}:ro`]),
      });
    }
  });

  it('publishes only the gateway, the echo port and the gRPC port', () => {
    const published = Object.entries(compose.services).flatMap(([name, s]) =>
      (s.ports ?? []).map((p) => `${name}:${p.split(':').pop()}`),
    );

    expect(sorted(published)).toEqual(
      sorted(['gateway:80', `echo-server:${LISTENER_PORTS.echo}`, `calculator:${LISTENER_PORTS.grpc}`]),
    );
  });

  it('puts every service on the one private network, but the certificates job on none', () => {
    const networks = Object.keys(compose.networks);

    expect(networks).toHaveLength(1);
    for (const [name, s] of Object.entries(compose.services)) {
      const on = Array.isArray(s.networks) ? s.networks : Object.keys(s.networks ?? {});
      expect({ name, networks: on }).toEqual({ name, networks: name === 'certs' ? [] : networks });
    }
    expect((compose.services.certs as { network_mode?: string }).network_mode).toBe('none');
  });

  it('runs postgres from the official image with a named volume and a pg_isready healthcheck', () => {
    const pg = service('postgres');

    expect(pg.image).toMatch(/^postgres:/);
    expect(Object.keys(compose.volumes)).toContain(pg.volumes?.[0].split(':')[0]);
    expect(composeHealthcheckCommand(pg)).toContain('pg_isready');
  });

  it('lets the spawning role start its jobs as containers on the compose network', () => {
    for (const { from } of spawnEdges()) {
      const s = service(from);
      const networkName = Object.values(compose.networks)[0].name;

      expect(s.environment?.MASTER_SPAWNER).toBe('docker');
      expect(s.environment?.MASTER_CHILD_NETWORK).toBe(networkName);
      expect(s.environment?.MASTER_CHILD_IMAGE).toBe(s.image);
      expect(s.volumes).toContain('/var/run/docker.sock:/var/run/docker.sock');
    }
  });

  it('routes each gateway path prefix to its role`s HTTP port', () => {
    const routes = parse(readFileSync(join(repoRoot, 'docker', 'traefik', 'routes.yml'), 'utf8')).http;
    const table = Object.values(routes.routers as Record<string, { rule: string; service: string }>).map(
      (r) =>
        `${r.rule.match(/PathPrefix\(`(.+)`\)/)?.[1]} -> ${routes.services[r.service].loadBalancer.servers[0].url}`,
    );

    expect(sorted(table)).toEqual(
      sorted(ROUTED_ROLES.map((r) => `/${r} -> http://${r}:${LISTENER_PORTS.http}`)),
    );
    expect(service('gateway').volumes).toContain('./docker/traefik/routes.yml:/etc/traefik/routes.yml:ro');
  });
});

describe('k8s/ against the role table', () => {
  let manifests: Manifest[];
  let byRole: Map<string, Manifest>;
  const ofKind = (kind: string) => manifests.filter((m) => m.kind === kind);
  const container = (role: string) => podSpec(byRole.get(role)!).containers[0];
  const envOf = (role: string) => containerEnv(container(role), manifests);

  beforeAll(() => {
    manifests = renderKustomize();
    byRole = roleWorkloads(manifests);
  });

  it('has a workload per deployed role whose ROLE is that role: a Job for jobs, a Deployment otherwise', () => {
    const found = [...byRole.entries()].map(([role, w]) => `${role}=${w.kind}/${w.metadata.name}`);
    const expected = DEPLOYED_ROLES.map((r) => `${r}=${spec(r).job ? 'Job' : 'Deployment'}/${r}`);

    expect(sorted(found)).toEqual(sorted(expected));
  });

  it('probes liveness on /health/live and readiness on /health/ready, on the HTTP port', () => {
    for (const role of DEPLOYED_ROLES) {
      const c = container(role);
      const httpPort = c.ports.find((p: any) => p.name === 'http')?.containerPort;
      const probes = { live: c.livenessProbe?.httpGet, ready: c.readinessProbe?.httpGet };
      const expected = spec(role).job
        ? { live: { path: '/health/live', port: 'http' }, ready: undefined }
        : { live: { path: '/health/live', port: 'http' }, ready: { path: '/health/ready', port: 'http' } };

      expect({ role, httpPort, probes }).toEqual({ role, httpPort: LISTENER_PORTS.http, probes: expected });
    }
  });

  it('exposes exactly each role`s listener ports, with the matching port variables', () => {
    for (const role of DEPLOYED_ROLES) {
      const env = envOf(role);
      const listeners = listenersOf(role);
      const ports = container(role).ports.map((p: any) => p.containerPort);

      expect({ role, ports: sorted(ports.map(String)) }).toEqual({
        role,
        ports: sorted(listeners.map((l) => String(LISTENER_PORTS[l]))),
      });
      for (const l of listeners)
        expect({ role, [l]: Number(env[LISTENER_PORT_ENV[l]]) }).toEqual({ role, [l]: LISTENER_PORTS[l] });
    }
  });

  it('gives each Service target ports that the selected role`s pods expose', () => {
    for (const svc of ofKind('Service').filter((s) => s.spec.selector[roleLabel] !== 'postgres')) {
      const role = svc.spec.selector[roleLabel];
      const portNames = container(role).ports.map((p: any) => p.name);

      for (const p of svc.spec.ports) expect(portNames).toContain(p.targetPort);
    }
  });

  it('points each peer address at a Service of the callee on its port, headless for Nest TCP callees', () => {
    const services = new Map(ofKind('Service').map((s) => [s.metadata.name, s]));
    const found = DEPLOYED_ROLES.flatMap((role) =>
      Object.entries(envOf(role))
        .filter(([name]) => name.endsWith('_ADDR'))
        .map(([name, value]) => {
          const [host, port] = String(value).split(':');
          const svc = services.get(host);
          const headless = svc?.spec.clusterIP === 'None';
          const servesPort = svc?.spec.ports.some((p: any) => p.port === Number(port));
          return `${role}: ${name} -> ${svc?.spec.selector[roleLabel]}:${port}${headless ? ' headless' : ''}${servesPort ? '' : ' (port not served)'}`;
        }),
    );
    const expected = networkEdges()
      .filter((e) => !isSpawned(e.from))
      .map((e) => {
        const nestTcp = listenersOf(e.to).includes('tcp');
        return `${e.from}: ${addrEnv(e.to)} -> ${e.to}:${e.port}${nestTcp ? ' headless' : ''}`;
      });

    expect(sorted(found)).toEqual(sorted(expected));
  });

  it('allows exactly the table`s network calls in NetworkPolicies, both as egress and as ingress', () => {
    const policies = ofKind('NetworkPolicy');
    const subject = (p: Manifest) => p.spec.podSelector.matchLabels?.[roleLabel];
    const peerRoles = (peers: any[] = []) =>
      peers
        .filter((x) => x.podSelector && !x.namespaceSelector)
        .map((x) => x.podSelector.matchLabels[roleLabel]);
    const ports = (rule: any) => (rule.ports ?? []).map((p: any) => p.port);
    const isRole = (r: string) => (ROLE_NAMES as string[]).includes(r);

    const egress = policies.flatMap((p) =>
      (p.spec.egress ?? []).flatMap((rule: any) =>
        peerRoles(rule.to).flatMap((to) =>
          ports(rule).map((port: number) => ({ from: subject(p), to, port })),
        ),
      ),
    );
    const ingress = policies.flatMap((p) =>
      (p.spec.ingress ?? []).flatMap((rule: any) =>
        peerRoles(rule.from).flatMap((from) =>
          ports(rule).map((port: number) => ({ from, to: subject(p), port })),
        ),
      ),
    );
    const betweenRoles = (e: { from: string; to: string }) => isRole(e.from) && isRole(e.to);
    const expected = sorted(networkEdges().map(edgeKey));

    expect(sorted(egress.filter(betweenRoles).map(edgeKey))).toEqual(expected);
    expect(sorted(ingress.filter(betweenRoles).map(edgeKey))).toEqual(expected);
    expect(sorted(egress.filter((e) => e.to === 'postgres').map((e) => e.from))).toEqual(
      sorted(databaseRoles),
    );
    expect(sorted(ingress.filter((e) => e.to === 'postgres').map((e) => e.from))).toEqual(
      sorted(databaseRoles),
    );
  });

  it('denies by default and allows DNS to every pod', () => {
    const policies = ofKind('NetworkPolicy').filter((p) => Object.keys(p.spec.podSelector).length === 0);
    const denyAll = policies.find((p) => !p.spec.ingress && !p.spec.egress);
    const dns = policies.flatMap((p) => (p.spec.egress ?? []).flatMap((r: any) => r.ports ?? []));

    expect(denyAll?.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(dns).toEqual(
      expect.arrayContaining([
        { protocol: 'UDP', port: 53 },
        { protocol: 'TCP', port: 53 },
      ]),
    );
  });

  it('lets only the ingress controller reach the routed roles` HTTP port from outside the namespace', () => {
    const fromOutside = ofKind('NetworkPolicy').flatMap((p) =>
      (p.spec.ingress ?? [])
        .filter((rule: any) => rule.from?.some((x: any) => x.namespaceSelector))
        .map(
          (rule: any) =>
            `${p.spec.podSelector.matchLabels?.[roleLabel]}:${rule.ports.map((x: any) => x.port).join(',')}`,
        ),
    );

    expect(sorted(fromOutside)).toEqual(sorted(ROUTED_ROLES.map((r) => `${r}:${LISTENER_PORTS.http}`)));
  });

  it('routes each Ingress path prefix to its role`s HTTP Service', () => {
    const [ingress] = ofKind('Ingress');
    const services = new Map(ofKind('Service').map((s) => [s.metadata.name, s]));
    const routes = ingress.spec.rules[0].http.paths.map((p: any) => {
      const svc = services.get(p.backend.service.name);
      return `${p.path} ${p.pathType} -> ${svc?.spec.selector[roleLabel]}:${p.backend.service.port.name}`;
    });

    expect(sorted(routes)).toEqual(sorted(ROUTED_ROLES.map((r) => `/${r} Prefix -> ${r}:http`)));
  });

  it('runs every pod as non-root with a read-only root filesystem and a writable /tmp', () => {
    for (const w of [...byRole.values(), ...ofKind('StatefulSet')]) {
      const pod = podSpec(w);
      for (const c of pod.containers) {
        const emptyDirs = pod.volumes.filter((v: any) => v.emptyDir).map((v: any) => v.name);
        const tmp = c.volumeMounts.find((m: any) => m.mountPath === '/tmp');

        expect({
          name: w.metadata.name,
          nonRoot: pod.securityContext.runAsNonRoot,
          ro: c.securityContext.readOnlyRootFilesystem,
          escalation: c.securityContext.allowPrivilegeEscalation,
        }).toEqual({ name: w.metadata.name, nonRoot: true, ro: true, escalation: false });
        expect(emptyDirs).toContain(tmp?.name);
      }
    }
  });

  it('bounds every container: CPU and memory requested and limited, requests within the limits', () => {
    // A role idles at about 150 MB resident (docs/performance.md): its memory limit must leave room above that.
    const idleRssBytes = 150 * 1024 ** 2;
    for (const w of [...byRole.values(), ...ofKind('StatefulSet')]) {
      for (const c of podSpec(w).containers) {
        const { requests, limits } = c.resources;
        expect({
          name: w.metadata.name,
          requested: cpuCores(requests.cpu) > 0 && memoryBytes(requests.memory) > 0,
          cpuWithinLimit: cpuCores(requests.cpu) <= cpuCores(limits.cpu),
          memoryWithinLimit: memoryBytes(requests.memory) <= memoryBytes(limits.memory),
          roomAboveIdle: memoryBytes(limits.memory) > idleRssBytes,
        }).toEqual({
          name: w.metadata.name,
          requested: true,
          cpuWithinLimit: true,
          memoryWithinLimit: true,
          roomAboveIdle: true,
        });
      }
    }
  });

  it('gives every role more termination grace than its SHUTDOWN_GRACE_MS', () => {
    for (const role of DEPLOYED_ROLES) {
      const grace = podSpec(byRole.get(role)!).terminationGracePeriodSeconds * 1000;

      expect({ role, longer: grace > Number(envOf(role).SHUTDOWN_GRACE_MS) }).toEqual({ role, longer: true });
    }
  });

  it('mounts the config ConfigMap read-only at CONFIG_DIR in every role', () => {
    for (const role of DEPLOYED_ROLES) {
      const pod = podSpec(byRole.get(role)!);
      const mount = container(role).volumeMounts.find((m: any) => m.mountPath === envOf(role).CONFIG_DIR);
      const volume = pod.volumes.find((v: any) => v.name === mount?.name);

      expect({ role, readOnly: mount?.readOnly, configMap: volume?.configMap?.name }).toEqual({
        role,
        readOnly: true,
        configMap: expect.stringMatching(/^polyrole-config-/),
      });
    }
  });

  it('gives DATABASE_URL from the Secret to the roles with tables only, and JWT_SECRET to auth only', () => {
    const holders = (name: string) => DEPLOYED_ROLES.filter((r) => envOf(r)[name] !== undefined);

    expect(sorted(holders('DATABASE_URL'))).toEqual(sorted(databaseRoles));
    expect(holders('JWT_SECRET')).toEqual(['auth']);
    expect(envOf('auth').JWT_SECRET).toEqual({
      from: expect.stringMatching(/^polyrole-secrets-.+\/JWT_SECRET$/),
    });
  });

  it('lets the spawning role manage Jobs and read their pods in its namespace, and nothing more', () => {
    const [from] = spawnEdges().map((e) => e.from);
    const account = podSpec(byRole.get(from)!).serviceAccountName;
    const binding = ofKind('RoleBinding').find((b) => b.subjects.some((s: any) => s.name === account));
    const role = ofKind('Role').find((r) => r.metadata.name === binding?.roleRef.name);
    const rules = role?.rules.map(
      (r: any) => `${r.apiGroups.join()}/${r.resources.join()}: ${r.verbs.join()}`,
    );

    expect(envOf(from).MASTER_SPAWNER).toBe('kubernetes');
    expect(ofKind('ClusterRole')).toEqual([]);
    expect(sorted(rules ?? [])).toEqual(
      sorted(['batch/jobs: create,list,watch,delete', '/pods: list', '/pods/log: get']),
    );
  });

  it('mounts no API token into the other pods', () => {
    const [spawner] = spawnEdges().map((e) => e.from);
    for (const [role, w] of byRole) {
      if (role === spawner) continue;
      expect({ role, token: podSpec(w).automountServiceAccountToken }).toEqual({ role, token: false });
    }
  });

  it('has a PodDisruptionBudget and a HorizontalPodAutoscaler for exactly the stateless HTTP roles', () => {
    const pdbs = ofKind('PodDisruptionBudget').map((p) => p.spec.selector.matchLabels[roleLabel]);
    const hpas = ofKind('HorizontalPodAutoscaler').map(
      (h) => `${h.spec.scaleTargetRef.kind}/${h.spec.scaleTargetRef.name}`,
    );

    expect(sorted(pdbs)).toEqual(sorted(STATELESS_HTTP_ROLES));
    expect(sorted(hpas)).toEqual(sorted(STATELESS_HTTP_ROLES.map((r) => `Deployment/${r}`)));
    for (const r of STATELESS_HTTP_ROLES)
      expect({ r, replicas: byRole.get(r)!.spec.replicas }).toEqual({ r, replicas: undefined });
  });

  it('runs PostgreSQL as a StatefulSet with a PersistentVolumeClaim', () => {
    const [pg] = ofKind('StatefulSet');

    expect(pg.metadata.name).toBe('postgres');
    expect(pg.spec.volumeClaimTemplates.map((t: any) => t.metadata.name)).toContain(
      podSpec(pg).containers[0].volumeMounts.find((m: any) => m.mountPath === '/var/lib/postgresql/data')
        .name,
    );
  });
});
