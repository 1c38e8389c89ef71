// The Kubernetes `certs` Job's program (dist/roles/certs/certs.main.js --kubernetes) against a local stand-in for the
// API server: on first run a Secret per role holding the CA certificate and that role's own key pair, the CA's key
// in a Secret of its own; a second run changes nothing; a lost role Secret is issued again by the same CA.
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ROLE_NAMES } from '../../src/roles/role-table.js';
import { FakeKubernetesApi, makeClusterCerts } from '../master-child/fake-kubernetes-api.js';
import { repoRoot } from './deploy-files.util.js';

const NAMESPACE = 'polyrole';
const TOKEN = 'certs-job-token';
const PROGRAM = resolve(repoRoot, 'dist/roles/certs/certs.main.js');

describe('the certs Job (certs.main.js --kubernetes)', () => {
  let work: string;
  let api: FakeKubernetesApi;

  /** Runs the Job's program as in its pod, the service-account files under `work` (async: the API is in here). */
  function runJob(): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((done, fail) => {
      const child = spawn(process.execPath, [PROGRAM, '--kubernetes', work], {
        env: {
          PATH: process.env.PATH ?? '',
          KUBERNETES_SERVICE_HOST: '127.0.0.1',
          KUBERNETES_SERVICE_PORT: new URL(api.url).port,
        },
      });
      const out = { stdout: '', stderr: '' };
      child.stdout.on('data', (c: Buffer) => (out.stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out.stderr += c.toString()));
      child.on('error', fail);
      child.on('close', (status) => done({ status, ...out }));
    });
  }
  const file = (secret: string, key: string) => Buffer.from(api.secrets.get(secret).data[key], 'base64');
  const posts = () => api.requests.filter((r) => r.method === 'POST').length;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'polyrole-certs-job-'));
    const cluster = makeClusterCerts(join(work, 'cluster'));
    const account = join(work, 'var/run/secrets/kubernetes.io/serviceaccount');
    mkdirSync(account, { recursive: true });
    writeFileSync(join(account, 'ca.crt'), readFileSync(cluster.ca.cert));
    writeFileSync(join(account, 'token'), TOKEN);
    writeFileSync(join(account, 'namespace'), NAMESPACE);
    api = await new FakeKubernetesApi(TOKEN, NAMESPACE, cluster.server).start();
  });
  afterAll(async () => {
    await api?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it("creates each role's Secret with the CA certificate and its own key pair, naming the role", async () => {
    const res = await runJob();
    expect({ status: res.status, stderr: res.stderr }).toEqual({ status: 0, stderr: '' });
    expect([...api.secrets.keys()].sort()).toEqual(
      ['ca', ...ROLE_NAMES].map((r) => `polyrole-tls-${r}`).sort(),
    );
    const ca = new X509Certificate(file('polyrole-tls-ca', 'ca.pem'));
    for (const role of ROLE_NAMES) {
      const secret = `polyrole-tls-${role}`;
      expect({ role, keys: Object.keys(api.secrets.get(secret).data).sort() }).toEqual({
        role,
        keys: ['ca.pem', 'cert.pem', 'key.pem'],
      });
      const cert = new X509Certificate(file(secret, 'cert.pem'));
      expect(cert.verify(ca.publicKey)).toBe(true);
      expect(cert.subjectAltName).toContain(`URI:spiffe://polyrole/${role}`);
      expect(file(secret, 'ca.pem').equals(file('polyrole-tls-ca', 'ca.pem'))).toBe(true);
    }
    // The CA's key is in its own Secret only.
    expect(Object.keys(api.secrets.get('polyrole-tls-ca').data).sort()).toEqual(['ca-key.pem', 'ca.pem']);
  });

  it('changes nothing when run again', async () => {
    const before = posts();
    const res = await runJob();
    expect(res.status).toBe(0);
    expect(res.stdout).toContain('nothing issued');
    expect(posts()).toBe(before);
  });

  it('issues a lost role Secret again, signed by the same CA', async () => {
    api.secrets.delete('polyrole-tls-psp');
    const res = await runJob();
    expect(res.status).toBe(0);
    expect(res.stdout).toContain('created Secrets in polyrole: polyrole-tls-psp');
    const ca = new X509Certificate(file('polyrole-tls-ca', 'ca.pem'));
    expect(new X509Certificate(file('polyrole-tls-psp', 'cert.pem')).verify(ca.publicKey)).toBe(true);
  });
});
