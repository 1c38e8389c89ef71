// Salted scrypt password hashes, self-describing (`scrypt$logN$r$p$salt$hash`) so the cost can grow later.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const KEY_BYTES = 32;
const SALT_BYTES = 16;

function derive(password: string, salt: Buffer, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_BYTES, { ...opts, maxmem: 256 * opts.N! * opts.r! }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export class PasswordHasher {
  constructor(
    private readonly logN = 14,
    private readonly random: (n: number) => Buffer = randomBytes,
  ) {}

  async hash(password: string): Promise<string> {
    const salt = this.random(SALT_BYTES);
    const r = 8;
    const p = 1;
    const key = await derive(password, salt, { N: 2 ** this.logN, r, p });
    return ['scrypt', this.logN, r, p, salt.toString('base64'), key.toString('base64')].join('$');
  }

  /** Always does the full derivation for a well-formed hash, so a miss costs what a hit costs. */
  async verify(password: string, encoded: string): Promise<boolean> {
    const [scheme, logN, r, p, salt, expected] = encoded.split('$');
    if (scheme !== 'scrypt' || !salt || !expected) return false;
    const want = Buffer.from(expected, 'base64');
    const key = await derive(password, Buffer.from(salt, 'base64'), {
      N: 2 ** Number(logN),
      r: Number(r),
      p: Number(p),
    });
    return key.length === want.length && timingSafeEqual(key, want);
  }
}
