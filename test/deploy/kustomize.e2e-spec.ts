// k8s/ renders with `kubectl kustomize`, and every rendered object validates against the Kubernetes schemas
// offline (kubernetes-models). The schemas do not reject unknown fields; invariants.e2e-spec.ts covers meaning.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { type Manifest, renderKustomize, repoRoot } from './deploy-files.util.js';

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
    expect(manifests.every((m) => m.metadata?.namespace === 'polyrole' || m.kind === 'Namespace')).toBe(true);
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
