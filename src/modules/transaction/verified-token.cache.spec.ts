import { Clock } from '../../platform/clock.js';
import { AppError } from '../../platform/errors/app-error.js';
import type { AuthClient, VerifiedUser } from '../auth/contract.js';
import { VERIFIED_TOKENS_MAX, VerifiedTokenCache } from './verified-token.cache.js';

const NOW_S = 1_700_000_000;
const TTL_S = 300;
const users = {
  alice: { user_id: 1, username: 'alice', enabled: true },
  charlie: { user_id: 3, username: 'charlie', enabled: false },
};

class FixedClock extends Clock {
  s = NOW_S;
  override now(): Date {
    return new Date(this.s * 1000);
  }
}

/** A stand-in for the auth role: answers the tokens it issued as auth.verify does, counting the calls. */
class CountingAuth {
  calls = 0;
  private readonly issued = new Map<string, VerifiedUser>();
  constructor(private readonly clock: FixedClock) {}

  issue(user: Omit<VerifiedUser, 'exp'>): string {
    const token = `token-${this.issued.size}`;
    this.issued.set(token, { ...user, exp: this.clock.s + TTL_S });
    return token;
  }

  readonly client = {
    verify: async ({ token }: { token: string }): Promise<VerifiedUser> => {
      this.calls++;
      await Promise.resolve();
      const user = this.issued.get(token);
      if (!user) throw new AppError(401, 'token_invalid', 'Token is invalid');
      if (this.clock.s >= user.exp) throw new AppError(401, 'token_expired', 'Token has expired');
      return { ...user };
    },
  } as unknown as AuthClient;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return (err as AppError).code;
}

describe(VerifiedTokenCache.name, () => {
  let clock: FixedClock;
  let auth: CountingAuth;
  let cache: VerifiedTokenCache;

  beforeEach(() => {
    clock = new FixedClock();
    auth = new CountingAuth(clock);
    cache = new VerifiedTokenCache(auth.client, clock);
  });

  it('asks auth once for a token and answers its later uses from memory', async () => {
    const token = auth.issue(users.alice);
    for (let i = 0; i < 5; i++)
      expect(await cache.verify(token)).toEqual({
        user_id: 1,
        username: 'alice',
        enabled: true,
        exp: NOW_S + TTL_S,
      });
    expect(auth.calls).toBe(1);
  });

  it('shares one auth.verify among concurrent first uses of a token', async () => {
    const token = auth.issue(users.alice);
    await Promise.all(Array.from({ length: 10 }, () => cache.verify(token)));
    expect(auth.calls).toBe(1);
  });

  it('keeps a disabled user disabled: the answer is the claims, remembered as they are', async () => {
    const token = auth.issue(users.charlie);
    await cache.verify(token);
    expect((await cache.verify(token)).enabled).toBe(false);
  });

  it('stops answering from memory once the token expires, so auth refuses it as expired', async () => {
    const token = auth.issue(users.alice);
    await cache.verify(token);
    clock.s = NOW_S + TTL_S;
    expect(await codeOf(cache.verify(token))).toBe('token_expired');
    expect(auth.calls).toBe(2);
    expect(cache.size).toBe(0);
  });

  it('does not remember refusals: an invalid token goes to auth every time', async () => {
    const forged = `${auth.issue(users.alice)}x`;
    expect(await codeOf(cache.verify(forged))).toBe('token_invalid');
    expect(await codeOf(cache.verify(forged))).toBe('token_invalid');
    expect(auth.calls).toBe(2);
    expect(cache.size).toBe(0);
  });

  it('hands out copies, so a caller changing its user cannot change what the next request sees', async () => {
    const token = auth.issue(users.alice);
    const first = await cache.verify(token);
    first.user_id = 99;
    expect((await cache.verify(token)).user_id).toBe(1);
  });

  it(`remembers at most ${VERIFIED_TOKENS_MAX} tokens, forgetting the oldest first`, async () => {
    const issued: string[] = [];
    for (let i = 0; i <= VERIFIED_TOKENS_MAX; i++) {
      issued.push(auth.issue({ user_id: i + 1, username: `user${i}`, enabled: true }));
      await cache.verify(issued[i]);
    }
    expect(cache.size).toBe(VERIFIED_TOKENS_MAX);
    const before = auth.calls;
    await cache.verify(issued[VERIFIED_TOKENS_MAX]);
    expect(auth.calls).toBe(before);
    await cache.verify(issued[0]);
    expect(auth.calls).toBe(before + 1);
  });
});
