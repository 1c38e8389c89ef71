import { createHmac, generateKeyPairSync } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';
import { AppError } from '../../platform/errors/app-error.js';
import { resolveJwtSecret, TokenService } from './token.service.js';

const secrets = { ours: 'a'.repeat(32), foreign: 'b'.repeat(32) };
const users = { alice: { id: 1, username: 'alice', enabled: true } };
const NOW_S = 1_700_000_000;
const TTL_S = 300;

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
function decode(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
}
function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).status).toBe(401);
    return (err as AppError).code;
  }
  throw new Error('expected a 401');
}

describe(TokenService.name, () => {
  let now = NOW_S;
  const tokens = new TokenService(secrets.ours, TTL_S, () => now);
  const claims = { user_id: 1, username: 'alice', enabled: true, sub: '1', iat: NOW_S, exp: NOW_S + TTL_S };
  beforeEach(() => (now = NOW_S));

  it("issues the original's claims plus iat and sub, expiring after the TTL", () => {
    const token = tokens.issue(users.alice);
    expect(JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString())).toEqual({
      alg: 'HS256',
      typ: 'JWT',
    });
    expect(decode(token)).toEqual(claims);
  });

  it('verifies its own token to the user it speaks for', () => {
    expect(tokens.verify(tokens.issue(users.alice))).toEqual({
      user_id: 1,
      username: 'alice',
      enabled: true,
      exp: NOW_S + TTL_S,
    });
  });

  it('answers token_expired once the TTL has passed', () => {
    const token = tokens.issue(users.alice);
    now = NOW_S + TTL_S + 1;
    expect(codeOf(() => tokens.verify(token))).toBe('token_expired');
  });

  it('refuses a token whose payload was tampered with', () => {
    const [h, , s] = tokens.issue(users.alice).split('.');
    const forged = `${h}.${b64({ ...claims, user_id: 2, sub: '2' })}.${s}`;
    expect(codeOf(() => tokens.verify(forged))).toBe('token_invalid');
  });

  it('refuses alg none', () => {
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
    expect(codeOf(() => tokens.verify(none))).toBe('token_invalid');
  });

  it('refuses another HMAC algorithm with the same secret', () => {
    const head = `${b64({ alg: 'HS512', typ: 'JWT' })}.${b64(claims)}`;
    const sig = createHmac('sha512', secrets.ours).update(head).digest('base64url');
    expect(codeOf(() => tokens.verify(`${head}.${sig}`))).toBe('token_invalid');
  });

  it('refuses an RS256 token', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rs = new JwtService().sign(claims, {
      algorithm: 'RS256',
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }),
    });
    expect(codeOf(() => tokens.verify(rs))).toBe('token_invalid');
  });

  it('refuses a token signed with another secret', () => {
    const foreign = new TokenService(secrets.foreign, TTL_S, () => now).issue(users.alice);
    expect(codeOf(() => tokens.verify(foreign))).toBe('token_invalid');
  });

  it('refuses a validly signed token without the claims it needs', () => {
    const bare = new JwtService({ secret: secrets.ours }).sign({ sub: '1', exp: NOW_S + 10, iat: NOW_S });
    expect(codeOf(() => tokens.verify(bare))).toBe('token_invalid');
  });

  it('refuses garbage', () => {
    expect(codeOf(() => tokens.verify('not.a.jwt'))).toBe('token_invalid');
  });
});

describe('resolveJwtSecret', () => {
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);
  beforeEach(() => (warnings.length = 0));

  it('uses a configured 32-byte secret without a warning', () => {
    expect(resolveJwtSecret(secrets.ours, warn)).toBe(secrets.ours);
    expect(warnings).toEqual([]);
  });

  it('warns about a short secret, allowed outside production', () => {
    expect(resolveJwtSecret('short', warn)).toBe('short');
    expect(warnings).toEqual([expect.stringContaining('shorter than 32 bytes')]);
  });

  it('makes a random secret with a warning outside production', () => {
    const secret = resolveJwtSecret(undefined, warn, (n) => Buffer.alloc(n, 7));
    expect(Buffer.from(secret, 'base64url')).toEqual(Buffer.alloc(32, 7));
    expect(warnings).toEqual([expect.stringContaining('random secret')]);
  });
});
