// `npm run certs -- <dir>`: a CA and a key pair per role for RPC_TLS=mutual (see role-certs.ts).
import { resolve } from 'node:path';
import { makeRoleCerts } from './role-certs.js';

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: npm run certs -- <dir>\n');
  process.exit(2);
}
const { ca, roles } = makeRoleCerts(resolve(dir));
process.stdout.write(`CA: ${ca.cert}\n`);
for (const [role, pair] of Object.entries(roles)) process.stdout.write(`${role}: ${pair.cert} ${pair.key}\n`);
process.stdout.write(`Keep ${ca.key} out of every container; it signs new certificates only.\n`);
