// k8s/ renders with `kubectl kustomize`, and every rendered object validates against the Kubernetes schemas
// offline (kubernetes-models). The schemas do not reject unknown fields; invariants.e2e-spec.ts covers meaning.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { DEPLOYED_ROLES, type Manifest, renderKustomize, repoRoot, spec } from './deploy-files.util.js';
import { expectEach } from '../harness/expect-each.js';

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: unknown) => Validatable;

/** The kubernetes-models class for a manifest: modules are laid out as `<apiVersion>/<Kind>`. */
async function modelFor(manifest: Manifest): Promise<ModelClass> {
  const mod = (await import(`kubernetes-models/${manifest.apiVersion}/${manifest.kind}`)) as Record<
    string,
    ModelClass
  >;
  const model = mod[manifest.kind];
  if (!model) throw new Error(`kubernetes-models has no ${manifest.apiVersion} ${manifest.kind}`);
  return model;
}

/**
 * Kustomize wraps long base64 values of Secret data over several lines; the API server's base64 decoder skips
 * newlines, the schema's "byte" format does not, so the check sees the value as the API server reads it.
 */
function asApiServerReads(m: Manifest): Manifest {
  if (m.kind !== 'Secret' || !m.data) return m;
  const data = Object.fromEntries(
    Object.entries(m.data as Record<string, string>).map(([k, v]) => [k, v.replace(/\s/g, '')]),
  );
  return { ...m, data };
}

const fixtures = {
  /** A Deployment without the selector that apps/v1 requires. */
  deploymentWithoutSelector: {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'broken' },
    spec: { template: { spec: { containers: [{ name: 'c', image: 'i' }] } } },
  } as Manifest,
};

describe('k8s/ kustomization', () => {
  let manifests: Manifest[];

  beforeAll(() => {
    manifests = renderKustomize();
  });

  it('renders with kubectl kustomize', () => {
    expect(manifests.length).toBeGreaterThan(0);
    expectEach(
      manifests,
      (m) => m.metadata?.namespace === 'polyrole' || m.kind === 'Namespace',
      'each manifest in the polyrole namespace',
    );
  });

  it('validates every rendered object against its Kubernetes schema', async () => {
    const failures: string[] = [];
    for (const m of manifests) {
      const Model = await modelFor(m);
      try {
        new Model(asApiServerReads(m)).validate();
      } catch (err) {
        failures.push(`${m.kind}/${m.metadata.name}: ${(err as Error).message}`);
      }
    }

    expect(failures).toEqual([]);
  });

  it('uses a validator that rejects an invalid object', async () => {
    const Model = await modelFor(fixtures.deploymentWithoutSelector);

    expect(() => new Model(fixtures.deploymentWithoutSelector).validate()).toThrow(/selector/);
  });

  it('puts every file of config/ into the polyrole-config ConfigMap', () => {
    const configFiles = readdirSync(join(repoRoot, 'config')).filter((f) => f !== 'kustomization.yaml');
    const configMap = manifests.find(
      (m) => m.kind === 'ConfigMap' && m.metadata.name.startsWith('polyrole-config-'),
    );

    expect(Object.keys(configMap?.data ?? {}).sort()).toEqual(configFiles.sort());
  });

  it('keeps the Secret out of the repository: k8s/secrets.env is git-ignored', () => {
    const ignored = readFileSync(join(repoRoot, '.gitignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());

    expect(ignored).toContain('k8s/secrets.env');
    expect(parse(readFileSync(join(repoRoot, 'k8s', 'kustomization.yaml'), 'utf8')).secretGenerator).toEqual([
      { name: 'polyrole-secrets', envs: ['secrets.env'] },
    ]);
  });
});

describe('mutual TLS in k8s/ as shipped', () => {
  let manifests: Manifest[];
  const find = (kind: string, name: string) =>
    manifests.find((m) => m.kind === kind && m.metadata.name === name) as any;
  /** Roles that speak Nest TCP: they serve it or call a role that does. */
  const rpcRoles = DEPLOYED_ROLES.filter(
    (r) =>
      (spec(r).listeners as readonly string[]).includes('tcp') ||
      (spec(r).calls as readonly string[]).some((c) =>
        (spec(c as never).listeners as readonly string[]).includes('tcp'),
      ),
  );

  beforeAll(() => {
    manifests = renderKustomize();
  });

  it('mounts in each role that speaks Nest TCP its own certificate Secret only, and turns mutual TLS on', () => {
    for (const role of rpcRoles) {
      const pod = find('Deployment', role).spec.template.spec;
      const secrets = pod.volumes.filter((v: any) => v.secret).map((v: any) => v.secret.secretName);
      expect({ role, secrets }).toEqual({ role, secrets: [`polyrole-tls-${role}`] });
      const env = Object.fromEntries(pod.containers[0].env.map((e: any) => [e.name, e.value]));
      expect(env).toMatchObject({
        RPC_TLS: 'mutual',
        RPC_TLS_CA: '/app/tls/ca.pem',
        RPC_TLS_CERT: '/app/tls/cert.pem',
        RPC_TLS_KEY: '/app/tls/key.pem',
      });
    }
  });

  it('leaves the roles without Nest TCP and every workload without the CA key', () => {
    for (const m of manifests.filter((x) => ['Deployment', 'Job', 'StatefulSet'].includes(x.kind))) {
      const volumes = ((m as any).spec.template.spec.volumes ?? []) as any[];
      expect({
        name: m.metadata.name,
        ca: volumes.filter((v) => v.secret?.secretName === 'polyrole-tls-ca'),
      }).toEqual({ name: m.metadata.name, ca: [] });
    }
    for (const role of DEPLOYED_ROLES.filter((r) => !rpcRoles.includes(r))) {
      const workload = find('Deployment', role) ?? find('Job', role);
      const env = (workload.spec.template.spec.containers[0].env ?? []).map((e: any) => e.name);
      expect({ role, env }).toEqual({ role, env: expect.not.arrayContaining(['RPC_TLS']) });
    }
  });

  it('makes the Secrets on first apply with a Job whose account may only read and create Secrets', () => {
    const job = find('Job', 'certs');
    expect(job.spec.template.spec.containers[0].command).toEqual([
      'node',
      'dist/roles/certs/certs.main.js',
      '--kubernetes',
    ]);
    expect(job.spec.template.spec.serviceAccountName).toBe('certs');
    expect(find('Role', 'certs').rules).toEqual([
      { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'create'] },
    ]);
    expect(find('RoleBinding', 'certs')).toMatchObject({
      subjects: [{ kind: 'ServiceAccount', name: 'certs' }],
      roleRef: { kind: 'Role', name: 'certs' },
    });
    // Nothing else makes them: no certificate, key or CA is rendered from the repository.
    expect(manifests.filter((m) => m.kind === 'Secret').map((m) => m.metadata.name)).toEqual([
      expect.stringMatching(/^polyrole-secrets-/),
    ]);
  });

  it('tells the master which Secret its children mount', () => {
    const env = find('Deployment', 'master').spec.template.spec.containers[0].env;
    expect(env).toEqual(
      expect.arrayContaining([{ name: 'MASTER_CHILD_TLS_SECRET', value: 'polyrole-tls-child' }]),
    );
  });
});
