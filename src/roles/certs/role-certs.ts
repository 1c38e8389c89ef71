// Certificates for RPC_TLS=mutual, made with openssl (in the image too: compose's `certs` service and the
// Kubernetes `certs` Job run certs.main.ts): one CA and, per role, a key pair whose certificate names the
// role as the URI SAN spiffe://polyrole/<role> (the identity the TCP transport checks) and as its CN.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROLE_URI_PREFIX } from '../../platform/transport/rpc-tls.js';
import { ROLE_NAMES } from '../role-table.js';

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

/** Where a deployment's certificates live: the CA in `<dir>/ca/`, each role's own set in `<dir>/<role>/`. */
export interface DeploymentCerts {
  ca: KeyPair;
  roles: Record<string, KeyPair>;
  /** The roles whose certificate this call issued (the others were already there). */
  issued: string[];
}

/**
 * The whole set for a deployment, made on first use and kept after: `ca/ca.pem` and `ca/ca-key.pem`, and per role a
 * directory `<role>/` with `ca.pem`, `cert.pem` and `key.pem`: exactly what that role mounts (at /app/tls), nothing
 * of another role's, never the CA's key. A role whose files exist is left alone; a missing one is issued by the CA
 * found there. `owner` (when running as root for a container's volumes) gets each role's files, the key 0400.
 */
export function makeRoleCerts(
  dir: string,
  options: { roles?: readonly string[]; owner?: { uid: number; gid: number } } = {},
): DeploymentCerts {
  const caDir = join(dir, 'ca');
  const ca = { cert: join(caDir, 'ca.pem'), key: join(caDir, 'ca-key.pem') };
  if (!existsSync(ca.cert) || !existsSync(ca.key)) {
    makeCa(caDir);
    chmodSync(ca.key, 0o400);
  }
  const issued: string[] = [];
  const roles = Object.fromEntries(
    (options.roles ?? ROLE_NAMES).map((role) => {
      const own = join(dir, role);
      const pair = { cert: join(own, 'cert.pem'), key: join(own, 'key.pem') };
      if (!existsSync(pair.cert) || !existsSync(pair.key) || !existsSync(join(own, 'ca.pem'))) {
        const made = makeRoleCert(own, ca, role, [role]);
        renameSync(made.cert, pair.cert);
        renameSync(made.key, pair.key);
        copyFileSync(ca.cert, join(own, 'ca.pem'));
        chmodSync(pair.key, 0o400);
        if (options.owner) {
          for (const file of [own, pair.cert, pair.key, join(own, 'ca.pem')])
            chownSync(file, options.owner.uid, options.owner.gid);
        }
        issued.push(role);
      }
      return [role, pair];
    }),
  );
  return { ca, roles, issued };
}
