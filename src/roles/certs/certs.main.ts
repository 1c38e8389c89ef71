// Certificates for RPC_TLS=mutual on first start, so a deployment runs mutual TLS without a step of its own:
//   node dist/roles/certs/certs.main.js <dir>     compose's one-shot `certs` service (and `npm run certs -- <dir>`):
//                                                 the CA in <dir>/ca, each role's set in <dir>/<role> (role-certs.ts)
//   node dist/roles/certs/certs.main.js --kubernetes   the `certs` Job: the same as Secrets polyrole-tls-<role> in
//                                                 the pod's namespace, the CA in polyrole-tls-ca, which no pod mounts
//                                                 (a second argument prefixes the service-account paths: tests)
// Either way, what exists is kept: a later run issues only what is missing.
import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ROLE_NAMES } from '../role-table.js';
import { makeRoleCerts } from './role-certs.js';

/** The image's unprivileged user, which owns what each role reads. */
const ROLE_USER = { uid: 1000, gid: 1000 };
const SERVICE_ACCOUNT_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';
export const tlsSecretName = (role: string) => `polyrole-tls-${role}`;
const CA_SECRET = tlsSecretName('ca');

function toFiles(dir: string): void {
  const running = process.getuid?.() === 0;
  const { issued } = makeRoleCerts(resolve(dir), running ? { owner: ROLE_USER } : {});
  process.stdout.write(
    issued.length
      ? `issued certificates in ${dir} for: ${issued.join(', ')}\n`
      : `certificates in ${dir} already there; nothing issued\n`,
  );
}

async function exists(api: CoreV1Api, namespace: string, name: string) {
  try {
    return await api.readNamespacedSecret({ name, namespace });
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return undefined;
    throw err;
  }
}

async function create(api: CoreV1Api, namespace: string, name: string, files: Record<string, string>) {
  try {
    await api.createNamespacedSecret({
      namespace,
      body: {
        metadata: { name, labels: { 'app.kubernetes.io/part-of': 'polyrole' } },
        type: 'Opaque',
        data: Object.fromEntries(
          Object.entries(files).map(([key, path]) => [key, readFileSync(path).toString('base64')]),
        ),
      },
    });
  } catch (err) {
    // Made by another run in between: that one stands.
    if (!(err instanceof ApiException && err.code === 409)) throw err;
  }
}

async function toKubernetes(pathPrefix = ''): Promise<void> {
  const config = new KubeConfig();
  config.loadFromCluster(pathPrefix);
  const api = config.makeApiClient(CoreV1Api);
  const namespace = readFileSync(`${pathPrefix}${SERVICE_ACCOUNT_NAMESPACE}`, 'utf8').trim();
  const work = mkdtempSync(join(tmpdir(), 'polyrole-certs-'));
  try {
    const caSecret = await exists(api, namespace, CA_SECRET);
    if (caSecret?.data) {
      mkdirSync(join(work, 'ca'));
      for (const file of ['ca.pem', 'ca-key.pem'])
        writeFileSync(join(work, 'ca', file), Buffer.from(caSecret.data[file], 'base64'), { mode: 0o600 });
    }
    const missing: string[] = [];
    for (const role of ROLE_NAMES)
      if (!(await exists(api, namespace, tlsSecretName(role)))) missing.push(role);
    const certs = makeRoleCerts(work, { roles: missing });
    if (!caSecret)
      await create(api, namespace, CA_SECRET, { 'ca.pem': certs.ca.cert, 'ca-key.pem': certs.ca.key });
    for (const role of missing) {
      const own = certs.roles[role];
      await create(api, namespace, tlsSecretName(role), {
        'ca.pem': join(work, role, 'ca.pem'),
        'cert.pem': own.cert,
        'key.pem': own.key,
      });
    }
    process.stdout.write(
      missing.length
        ? `created Secrets in ${namespace}: ${missing.map(tlsSecretName).join(', ')}\n`
        : `every Secret polyrole-tls-<role> already in ${namespace}; nothing issued\n`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const [target, pathPrefix] = process.argv.slice(2);
if (!target) {
  process.stderr.write('usage: certs.main.js <dir> | --kubernetes\n');
  process.exit(2);
}
try {
  if (target === '--kubernetes') await toKubernetes(pathPrefix);
  else toFiles(target);
} catch (err) {
  process.stderr.write(`certificates not made: ${(err as Error).message}\n`);
  process.exit(1);
}
