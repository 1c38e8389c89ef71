// Certificates for RPC_TLS=mutual, made with openssl: one CA and, per role, a key pair whose certificate names the
// role as the URI SAN spiffe://polyrole/<role> (the identity the TCP transport checks) and as its CN.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROLE_URI_PREFIX } from '../../src/platform/transport/rpc-tls.js';
import { ROLE_NAMES } from '../../src/roles/role-table.js';

export interface KeyPair {
  cert: string;
  key: string;
}

/** openssl's `ca` date form, e.g. 20200101000000Z. */
export type CertDate = string;

export interface Validity {
  days?: number;
  notBefore?: CertDate;
  notAfter?: CertDate;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A self-signed CA in `dir` as `<name>.pem` and `<name>-key.pem`. */
export function makeCa(dir: string, name = 'ca', days = 3650): KeyPair {
  mkdirSync(dir, { recursive: true });
  const pair = { cert: join(dir, `${name}.pem`), key: join(dir, `${name}-key.pem`) };
  openssl([
    'req', '-x509', ...EC_KEY, '-days', String(days), '-subj', `/CN=polyrole ${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout', pair.key, '-out', pair.cert,
  ]); // prettier-ignore
  return pair;
}

/** A key pair signed by `ca` whose certificate names `roles` (several for a process running several roles). */
export function makeRoleCert(
  dir: string,
  ca: KeyPair,
  name: string,
  roles: readonly string[],
  validity: Validity = {},
): KeyPair {
  mkdirSync(dir, { recursive: true });
  const pair = { cert: join(dir, `${name}.pem`), key: join(dir, `${name}-key.pem`) };
  const work = mkdtempSync(join(tmpdir(), 'polyrole-ca-'));
  try {
    const csr = join(work, 'req.csr');
    openssl(['req', '-new', ...EC_KEY, '-subj', `/CN=${name}`, '-keyout', pair.key, '-out', csr]);
    writeFileSync(join(work, 'index.txt'), '');
    writeFileSync(join(work, 'serial'), `${Date.now().toString(16).padStart(16, '0')}\n`);
    const san = [...roles.map((r) => `URI:${ROLE_URI_PREFIX}${r}`), ...roles.map((r) => `DNS:${r}`)];
    writeFileSync(
      join(work, 'ca.cnf'),
      [
        '[ca]',
        'default_ca = polyrole',
        '[polyrole]',
        `database = ${join(work, 'index.txt')}`,
        `serial = ${join(work, 'serial')}`,
        `new_certs_dir = ${work}`,
        'default_md = sha256',
        'policy = any',
        'unique_subject = no',
        '[any]',
        'commonName = supplied',
        '[leaf]',
        'basicConstraints = critical,CA:FALSE',
        'keyUsage = critical,digitalSignature',
        'extendedKeyUsage = serverAuth,clientAuth',
        `subjectAltName = ${san.join(',')}`,
        '',
      ].join('\n'),
    );
    const dates = validity.notBefore
      ? ['-startdate', validity.notBefore, '-enddate', validity.notAfter ?? validity.notBefore]
      : ['-days', String(validity.days ?? 825)];
    openssl([
      'ca', '-batch', '-notext', '-config', join(work, 'ca.cnf'), '-extensions', 'leaf',
      '-cert', ca.cert, '-keyfile', ca.key, '-in', csr, '-out', pair.cert, ...dates,
    ]); // prettier-ignore
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return pair;
}

/**
 * The whole set for a deployment: `ca.pem` and `ca-key.pem` in `dir`, and per role a directory `<role>/` with
 * `ca.pem`, `cert.pem` and `key.pem`: exactly what that role mounts (at /app/tls), and nothing of another role's.
 */
export function makeRoleCerts(dir: string): { ca: KeyPair; roles: Record<string, KeyPair> } {
  const ca = makeCa(dir);
  const roles = Object.fromEntries(
    ROLE_NAMES.map((role) => {
      const made = makeRoleCert(join(dir, role), ca, role, [role]);
      const pair = { cert: join(dir, role, 'cert.pem'), key: join(dir, role, 'key.pem') };
      renameSync(made.cert, pair.cert);
      renameSync(made.key, pair.key);
      copyFileSync(ca.cert, join(dir, role, 'ca.pem'));
      return [role, pair];
    }),
  );
  return { ca, roles };
}
