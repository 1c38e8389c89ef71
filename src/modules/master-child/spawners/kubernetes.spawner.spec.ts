import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { parseAllDocuments } from 'yaml';
import { type KeyPair, makeCa } from '../../../roles/certs/role-certs.js';
import { FakeKubernetesApi, makeClusterCerts } from '../../../../test/master-child/fake-kubernetes-api.js';
import { ensureCommand } from '../../../../test/harness/tools.js';
import { waitFor } from '../../../../test/harness/wait-for.js';
import type { ChildHandle, ChildSpec } from './child-spawner.js';
import { kubernetesApiUrl, KubernetesSpawner, type KubernetesSpawnerOptions } from './kubernetes.spawner.js';

const cluster = { token: 'sa-token-1', namespace: 'team-a' };
const children = {
  first: { id: 'c1', env: { CHILD_COUNT: '10', MASTER_ADDR: 'master:4000' } },
};
const jobName = 'polyrole-child-c1';
const jobsPath = `/apis/batch/v1/namespaces/${cluster.namespace}/jobs`;

/** A request to the API as an RBAC permission: `<apiGroup>/<resource>: <verb>`, the way Role rules name them. */
function permission(r: { method: string; path: string }): string {
  const url = new URL(r.path, 'https://k8s');
  const m =
    /^\/(?:apis\/([^/]+)\/[^/]+|api\/v1)\/namespaces\/[^/]+\/([^/]+)(?:\/([^/]+)(?:\/([^/]+))?)?$/.exec(
      url.pathname,
    );
  if (!m) return `unknown ${r.method} ${url.pathname}`;
  const [, group = '', resource, name, sub] = m;
  const verb =
    r.method === 'POST'
      ? 'create'
      : r.method === 'DELETE'
        ? 'delete'
        : url.searchParams.get('watch') === 'true'
          ? 'watch'
          : name
            ? 'get'
            : 'list';
  return `${group}/${resource}${sub ? `/${sub}` : ''}: ${verb}`;
}

/** Every permission the shipped Role of the master grants. */
function granted(): string[] {
  const docs = parseAllDocuments(
    readFileSync(new URL('../../../../k8s/master-rbac.yaml', import.meta.url), 'utf8'),
  );
  const role = docs.map((d) => d.toJS()).find((d) => d?.kind === 'Role');
  return (role.rules as Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>).flatMap(
    (rule) =>
      rule.apiGroups.flatMap((g) =>
        rule.resources.flatMap((res) => rule.verbs.map((v) => `${g}/${res}: ${v}`)),
      ),
  );
}

/** What the spawner asked of the API in this file's tests, as permissions. */
const used = new Set<string>();

describe(KubernetesSpawner.name, () => {
  let api: FakeKubernetesApi;
  let secrets: string;
  let certsDir: string;
  let certs: { ca: KeyPair; server: KeyPair; otherCa: KeyPair };
  const handles: ChildHandle[] = [];
  const startApi = () => new FakeKubernetesApi(cluster.token, cluster.namespace, certs.server).start();

  beforeAll(async () => {
    await ensureCommand('openssl', 'openssl');
    certsDir = mkdtempSync(join(tmpdir(), 'cluster-ca-'));
    certs = { ...makeClusterCerts(certsDir), otherCa: makeCa(certsDir, 'other-cluster-ca') };
  });
  afterAll(() => rmSync(certsDir, { recursive: true, force: true }));

  beforeEach(async () => {
    api = await startApi();
    secrets = mkdtempSync(join(tmpdir(), 'sa-'));
    writeFileSync(join(secrets, 'token'), `${cluster.token}\n`);
    writeFileSync(join(secrets, 'namespace'), cluster.namespace);
  });
  afterEach(async () => {
    // Every child is stopped, so no watch outlives its spec.
    writeFileSync(join(secrets, 'token'), cluster.token);
    for (const h of handles.splice(0)) await h.stop();
    for (const r of api.requests) used.add(permission(r));
    await api.close();
    rmSync(secrets, { recursive: true, force: true });
  });

  function spawner(extra: Partial<KubernetesSpawnerOptions> = {}) {
    const k8s = new KubernetesSpawner({
      apiUrl: api.url,
      tokenPath: join(secrets, 'token'),
      caPath: certs.ca.cert,
      namespacePath: join(secrets, 'namespace'),
      image: 'registry.local/polyrole:1.0',
      masterName: 'master-a',
      ttlSecondsAfterFinished: 300,
      cpuLimit: '500m',
      memoryLimit: '256Mi',
      stopGraceMs: 10_000,
      baseEnv: { LOG_LEVEL: 'info' },
      sleep: () => new Promise((resolve) => setTimeout(resolve, 5)),
      ...extra,
    });
    return {
      jobManifest: (spec: ChildSpec, name: string) => k8s.jobManifest(spec, name),
      spawn: async (spec: ChildSpec) => {
        const handle = await k8s.spawn(spec);
        handles.push(handle);
        return handle;
      },
    };
  }

  it('creates a batch/v1 Job in its namespace with the service account token', async () => {
    await spawner().spawn(children.first);
    const create = api.requests[0];
    expect(create.method).toBe('POST');
    expect(create.path).toBe(jobsPath);
    expect(create.headers.authorization).toBe('Bearer sa-token-1');
    const labels = {
      'app.kubernetes.io/name': 'polyrole',
      'app.kubernetes.io/component': 'child',
      'polyrole/master': 'master-a',
      'polyrole/child-id': 'c-c1',
    };
    expect(create.body).toEqual({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: jobName, labels },
      spec: {
        backoffLimit: 0,
        ttlSecondsAfterFinished: 300,
        template: {
          metadata: { labels },
          spec: {
            restartPolicy: 'Never',
            terminationGracePeriodSeconds: 10,
            containers: [
              {
                name: 'child',
                image: 'registry.local/polyrole:1.0',
                env: [
                  { name: 'LOG_LEVEL', value: 'info' },
                  { name: 'CHILD_COUNT', value: '10' },
                  { name: 'MASTER_ADDR', value: 'master:4000' },
                  { name: 'ROLE', value: 'child' },
                  { name: 'CHILD_ID', value: 'c1' },
                ],
                resources: {
                  limits: { cpu: '500m', memory: '256Mi' },
                  requests: { cpu: '500m', memory: '256Mi' },
                },
              },
            ],
          },
        },
      },
    });
  });

  it('creates a manifest that the Kubernetes schema accepts', () => {
    const manifest = spawner({ activeDeadlineSeconds: 600 }).jobManifest(children.first, jobName);
    expect(() => new Job(manifest as never).validate()).not.toThrow();
  });

  it("mounts the child's TLS Secret read-only where its certificate settings point", () => {
    const manifest = spawner({
      childSecret: { name: 'polyrole-tls-child', mountPath: '/app/tls' },
    }).jobManifest(children.first, jobName) as any;
    const pod = manifest.spec.template.spec;
    expect(pod.volumes).toEqual([
      { name: 'tls', secret: { secretName: 'polyrole-tls-child', defaultMode: 0o440 } },
    ]);
    expect(pod.containers[0].volumeMounts).toEqual([{ name: 'tls', mountPath: '/app/tls', readOnly: true }]);
    expect(() => new Job(manifest).validate()).not.toThrow();
  });

  it('watches its Job by name from the version it created', async () => {
    await spawner().spawn(children.first);
    await waitFor(() => api.watchCount === 1, 'the watch');
    const watch = new URL(api.requests[1].path, 'http://k8s');
    expect(watch.pathname).toBe(jobsPath);
    expect(Object.fromEntries(watch.searchParams)).toMatchObject({
      watch: 'true',
      fieldSelector: `metadata.name=${jobName}`,
      resourceVersion: api.jobs.get(jobName)!.object.metadata.resourceVersion,
    });
  });

  it('reports a completed Job as exit 0 with its log tail', async () => {
    const handle = await spawner().spawn(children.first);
    expect(handle.ref).toBe(jobName);
    await waitFor(() => api.watchCount === 1, 'the watch');
    api.finish(jobName, { exitCode: 0, log: 'done: 10 numbers\n' });
    await expect(handle.wait()).resolves.toEqual({ exitCode: 0 });
    expect(handle.stderrTail()).toBe('done: 10 numbers\n');
  });

  it("reports a failed Job with its container's exit code", async () => {
    const handle = await spawner().spawn(children.first);
    await waitFor(() => api.watchCount === 1, 'the watch');
    api.finish(jobName, { exitCode: 3, log: 'Error: master unreachable\n' });
    await expect(handle.wait()).resolves.toEqual({ exitCode: 3 });
    expect(handle.stderrTail()).toContain('master unreachable');
  });

  it('takes the exit code and log from the pod that ran the child, among several pods of the Job', async () => {
    const handle = await spawner().spawn(children.first);
    await waitFor(() => api.watchCount === 1, 'the watch');
    api.finish(jobName, {
      exitCode: 3,
      log: 'Error: master unreachable\n',
      strayPods: [{ exitCode: 137, finishedAt: '2020-01-01T00:00:00Z' }, { evicted: true }],
    });
    await expect(handle.wait()).resolves.toEqual({ exitCode: 3 });
    expect(handle.stderrTail()).toContain('master unreachable');
  });

  it('reports why a Job failed when no container result exists', async () => {
    const handle = await spawner().spawn(children.first);
    await waitFor(() => api.watchCount === 1, 'the watch');
    api.failWithoutPod(jobName, 'DeadlineExceeded', 'Job was active longer than specified deadline');
    await expect(handle.wait()).resolves.toEqual({
      exitCode: null,
      error: 'DeadlineExceeded: Job was active longer than specified deadline',
    });
  });

  it('watches again when the server ends a watch, and still sees the Job finish', async () => {
    const handle = await spawner().spawn(children.first);
    await waitFor(() => api.watchCount === 1, 'the watch');
    api.endWatches();
    await waitFor(() => api.watchCount === 1, 'a second watch');
    api.finish(jobName, { exitCode: 0 });
    await expect(handle.wait()).resolves.toEqual({ exitCode: 0 });
  });

  it('lists the Job again when its watch version expired (410 Gone), and still sees it finish', async () => {
    const handle = await spawner().spawn(children.first);
    await waitFor(() => api.watchCount === 1, 'the watch');
    api.compact();
    // A watch from the expired version is answered at once with a 410 ERROR event and never stays open.
    await waitFor(() => api.watchCount === 1, 'a watch from a fresh list');
    const relist = api.requests.filter((r) => r.method === 'GET' && !r.path.includes('watch=true')).at(-1)!;
    expect(new URL(relist.path, 'https://k8s').pathname).toBe(jobsPath);
    api.finish(jobName, { exitCode: 0 });
    await expect(handle.wait()).resolves.toEqual({ exitCode: 0 });
  });

  it('stops a child by deleting its Job with background propagation, so its pod goes too', async () => {
    const handle = await spawner().spawn(children.first);
    await waitFor(() => api.watchCount === 1, 'the watch');
    expect(api.podsOf(jobName)).toHaveLength(1);
    await handle.stop();
    const del = api.requests.find((r) => r.method === 'DELETE')!;
    expect(new URL(del.path, 'https://k8s').pathname).toBe(`${jobsPath}/${jobName}`);
    expect(del.headers.authorization).toBe('Bearer sa-token-1');
    expect(api.deletions.get(jobName)).toEqual({ propagationPolicy: 'Background' });
    expect(api.podsOf(jobName)).toEqual([]);
    await expect(handle.wait()).resolves.toEqual({ exitCode: null, error: 'stopped: its Job was deleted' });
  });

  it('reads the token again on each call, so a rotated token is used', async () => {
    const handle = await spawner().spawn(children.first);
    writeFileSync(join(secrets, 'token'), 'sa-token-2');
    await expect(handle.stop()).rejects.toMatchObject({ code: 'kubernetes_unauthorized' });
    expect(api.requests.at(-1)!.headers.authorization).toBe('Bearer sa-token-2');
  });

  it('explains a refusal to create the Job (403)', async () => {
    api.rejectCreate = {
      code: 403,
      reason: 'Forbidden',
      message:
        'jobs.batch is forbidden: User "system:serviceaccount:team-a:master" cannot create resource "jobs"',
    };
    await expect(spawner().spawn(children.first)).rejects.toMatchObject({
      name: 'SpawnError',
      code: 'kubernetes_forbidden',
      message: expect.stringMatching(
        /^the service account may not create Jobs in namespace team-a \(403 Forbidden\): jobs.batch is forbidden/,
      ),
    });
  });

  it('explains an existing Job (409) and an invalid one (422)', async () => {
    await spawner().spawn(children.first);
    await expect(spawner().spawn(children.first)).rejects.toMatchObject({
      code: 'spawn_conflict',
      message: expect.stringContaining('jobs.batch "polyrole-child-c1" already exists'),
    });
    api.rejectCreate = { code: 422, reason: 'Invalid', message: 'Job.batch "x" is invalid' };
    await expect(spawner().spawn({ id: 'c2', env: {} })).rejects.toMatchObject({ code: 'spawn_invalid' });
  });

  it('fails clearly outside a cluster (no service account files)', async () => {
    const outside = spawner({ tokenPath: join(secrets, 'missing-token') });
    await expect(outside.spawn(children.first)).rejects.toMatchObject({
      code: 'kubernetes_unconfigured',
      message: expect.stringContaining(`no service account token at ${join(secrets, 'missing-token')}`),
    });
  });

  it('fails clearly without the cluster CA certificate', async () => {
    const missing = join(secrets, 'missing-ca.crt');
    await expect(spawner({ caPath: missing }).spawn(children.first)).rejects.toMatchObject({
      code: 'kubernetes_unconfigured',
      message: expect.stringContaining(`no cluster CA certificate at ${missing}`),
    });
    expect(api.requests).toEqual([]);
  });

  it('trusts the API server only through the cluster CA, and sends it no token otherwise', async () => {
    await expect(spawner({ caPath: certs.otherCa.cert }).spawn(children.first)).rejects.toMatchObject({
      code: 'kubernetes_unreachable',
      message: expect.stringMatching(
        /^cannot reach the Kubernetes API at .* to create the Job of child c1 \(/,
      ),
    });
    expect(api.requests).toEqual([]);
  });

  it('fails clearly when the API cannot be reached', async () => {
    const url = api.url;
    const cut = spawner();
    await api.close();
    await expect(cut.spawn(children.first)).rejects.toMatchObject({
      code: 'kubernetes_unreachable',
      message: `cannot reach the Kubernetes API at ${url} to create the Job of child c1 (ECONNREFUSED)`,
    });
    api = await startApi();
  });

  // Last in this file: it reads what every test above made the spawner ask of the API.
  it('asks the API for exactly what k8s/master-rbac.yaml grants the master: nothing more, no grant unused', () => {
    expect([...used].sort()).toEqual([...new Set(granted())].sort());
  });
});

describe('kubernetesApiUrl', () => {
  it('builds the https URL from the service host and port', () => {
    expect(kubernetesApiUrl('10.96.0.1', 443)).toBe('https://10.96.0.1:443');
    expect(kubernetesApiUrl('fd00::1', 443)).toBe('https://[fd00::1]:443');
  });
});
