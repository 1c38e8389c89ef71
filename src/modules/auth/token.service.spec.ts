import { createHmac, generateKeyPairSync } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';
import { AppError } from '../../platform/errors/app-error.js';
import { resolveJwtSecret, TokenService } from './token.service.js';

const secrets = { ours: 'a'.repeat(32), foreign: 'b'.repeat(32) };
const users = { alice: { id: 1, username: 'alice', enabled: true } };
const NOW_S = 1_700_000_000;
const TTL_S = 300;
const POLICY = { ttlS: TTL_S, issuer: 'polyrole-auth', audience: 'polyrole', skewS: 30 };

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
  const tokens = new TokenService(secrets.ours, POLICY, () => now);
  const claims = {
    user_id: 1,
    username: 'alice',
    enabled: true,
    sub: '1',
    iss: 'polyrole-auth',
    aud: 'polyrole',
    iat: NOW_S,
    exp: NOW_S + TTL_S,
  };
  /** A token signed with the real secret, with the claims given over the issued ones. */
  const forge = (over: Record<string, unknown>, header: Record<string, unknown> = {}) => {
    const head = `${b64({ alg: 'HS256', typ: 'JWT', ...header })}.${b64({ ...claims, ...over })}`;
    return `${head}.${createHmac('sha256', secrets.ours).update(head).digest('base64url')}`;
  };
  beforeEach(() => (now = NOW_S));

  it("issues the original's claims plus iat, sub, iss and aud, expiring after the TTL", () => {
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
    const foreign = new TokenService(secrets.foreign, POLICY, () => now).issue(users.alice);
    expect(codeOf(() => tokens.verify(foreign))).toBe('token_invalid');
  });

  it('refuses a validly signed token without the claims it needs', () => {
    const bare = new JwtService({ secret: secrets.ours }).sign({ sub: '1', exp: NOW_S + 10, iat: NOW_S });
    expect(codeOf(() => tokens.verify(bare))).toBe('token_invalid');
  });

  it('accepts a forged token with the issued claims (the table below changes one claim each)', () => {
    expect(tokens.verify(forge({}))).toMatchObject({ user_id: 1 });
  });

  it.each([
    ['a lifetime of 100 years', { exp: NOW_S + 100 * 365 * 86_400 }],
    ['a lifetime just over JWT_TTL_S plus the skew', { exp: NOW_S + TTL_S + 31 }],
    ['an iat in the future beyond the skew', { iat: NOW_S + 31, exp: NOW_S + 31 + TTL_S }],
    ['no iat', { iat: undefined }],
    ['user_id -1', { user_id: -1, sub: '-1' }],
    ['user_id 0', { user_id: 0, sub: '0' }],
    ['user_id 1.5', { user_id: 1.5, sub: '1.5' }],
    ['another issuer', { iss: 'someone-else' }],
    ['no issuer', { iss: undefined }],
    ['another audience', { aud: 'another-service' }],
    ['no audience', { aud: undefined }],
  ])('refuses a validly signed token with %s', (_what, over) => {
    expect(codeOf(() => tokens.verify(forge(over)))).toBe('token_invalid');
  });

  it('allows the clock skew on iat and on the lifetime', () => {
    expect(tokens.verify(forge({ iat: NOW_S + 30, exp: NOW_S + 30 + TTL_S }))).toMatchObject({ user_id: 1 });
    expect(tokens.verify(forge({ exp: NOW_S + TTL_S + 30 }))).toMatchObject({ user_id: 1 });
  });

  it('refuses a token with a critical header extension it does not understand', () => {
    expect(codeOf(() => tokens.verify(forge({}, { crit: ['exp-2'], 'exp-2': true })))).toBe('token_invalid');
  });

  it('answers an expiry no later than JWT_TTL_S from now, so a remembered answer outlives no rotation', () => {
    now = NOW_S + 100;
    expect(tokens.verify(forge({ iat: NOW_S + 100 + 20, exp: NOW_S + 100 + 20 + TTL_S })).exp).toBe(
      NOW_S + 100 + TTL_S,
    );
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
