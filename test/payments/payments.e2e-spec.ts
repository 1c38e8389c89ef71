// Issue 5: the original's flow and every answer of auth and transaction, in both topologies.
import { query } from '../harness/database.js';
import { Topology, TOPOLOGIES, type RoleProcess } from '../harness/topology.js';
import {
  claimsOf,
  get,
  post,
  postFrom,
  PSP_LINE,
  secrets,
  signToken,
  tokenOf,
  POLL,
  users,
  wrongPassword,
  type Answer,
} from './payments.fixtures.js';
import { waitFor } from '../harness/wait-for.js';
import { expectEach } from '../harness/expect-each.js';

const RATE_LIMIT = 20;

describe.each(TOPOLOGIES)('payments, %s topology', (kind) => {
  let topo: Topology;
  let auth: RoleProcess;
  let api: RoleProcess;
  let alice: string;
  const pay = (body: unknown, headers: Record<string, string> = {}) =>
    post(`${api.url}/transaction/transaction`, body, headers);
  const detailOf = (a: Answer) => [a.status, a.body.detail];

  beforeAll(async () => {
    topo = await Topology.startKind(kind, ['auth', 'transaction', 'psp'], {
      // The per-username limit has its own suite (login-limit.e2e-spec.ts); here only the per-address one counts.
      env: {
        JWT_SECRET: secrets.jwt,
        AUTH_RATE_LIMIT: `${RATE_LIMIT}/60s`,
        AUTH_USERNAME_RATE_LIMIT: 'off',
        JWT_TTL_S: '300',
      },
    });
    auth = topo.host('auth');
    api = topo.host('transaction');
    alice = await tokenOf(auth.url, users.alice);
  });
  afterAll(async () => {
    const codes = await topo?.stop();
    expectEach(codes ?? {}, (code) => code === 0, 'every role to exit 0');
  });

  describe('the original flow', () => {
    let accepted: Answer;
    beforeAll(async () => {
      accepted = await pay({ amount: '100', currency: 'USD', token: alice });
    });

    it('accepts 100 USD from alice with the original fields, an id and status pending', () => {
      expect(accepted.status).toBe(200);
      expect(accepted.body).toEqual({
        amount: 100,
        currency: 'USD',
        user_id: 1,
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        status: 'pending',
      });
    });

    it('has the psp log the payment under the request id of the POST', async () => {
      const line = await topo
        .host('psp')
        .waitForLog((l) => l.msg === PSP_LINE && l.transactionId === accepted.body.id);
      expect(line.requestId).toBe(accepted.headers.get('x-request-id'));
    });

    it('reaches status completed', async () => {
      const done = await waitFor(
        async () => {
          const res = await get(`${api.url}/transaction/transaction/${accepted.body.id}`, {
            authorization: `Bearer ${alice}`,
          });
          return res.body.status === 'completed' ? res : undefined;
        },
        'completion',
        POLL,
      );
      expect(done.body).toMatchObject({ ...accepted.body, status: 'completed' });
    });
  });

  describe('POST /auth/token', () => {
    it('issues an HS256 token with user_id, username, enabled, exp, iat, sub, iss and aud', async () => {
      const claims = claimsOf(alice);
      expect(claims).toEqual({
        user_id: 1,
        username: 'alice',
        enabled: true,
        sub: '1',
        iss: 'polyrole-auth',
        aud: 'polyrole',
        iat: expect.any(Number),
        exp: (claims.iat as number) + 300,
      });
    });

    it.each([
      [{ password: 'password' }, 'Username is blank'],
      [{ username: '', password: 'password' }, 'Username is blank'],
      [{ username: 'alice' }, 'Password is blank'],
    ])('answers %j with 422 %s', async (body, detail) => {
      expect(detailOf(await post(`${auth.url}/auth/token`, body))).toEqual([422, detail]);
    });

    it('answers a wrong password and an unknown user alike: 401 Invalid credentials', async () => {
      const wrong = await post(`${auth.url}/auth/token`, { username: 'alice', password: wrongPassword });
      const unknown = await post(`${auth.url}/auth/token`, { username: 'mallory', password: wrongPassword });
      expect(detailOf(wrong)).toEqual([401, 'Invalid credentials']);
      expect(detailOf(unknown)).toEqual([401, 'Invalid credentials']);
      expect(unknown.body.code).toBe(wrong.body.code);
    });
  });

  describe('POST /transaction/transaction', () => {
    it.each([
      [{ amount: 100, currency: 'USD' }, 'Token is blank'],
      [{ currency: 'USD', token: 'x' }, 'Amount is blank'],
      [{ amount: 0, currency: 'USD', token: 'x' }, 'Amount is blank'],
      [{ amount: -3, currency: 'USD', token: 'x' }, 'Amount is blank'],
      [{ amount: 'abc', currency: 'USD', token: 'x' }, 'Amount must be a number'],
      [{ amount: '1.234', currency: 'USD', token: 'x' }, 'Amount must have at most 2 decimal places'],
      [{ amount: 100, token: 'x' }, 'Currency is blank'],
      [{ amount: 100, currency: 'usd', token: 'x' }, 'Invalid currency code'],
    ])('answers %j with 422 %s', async (body, detail) => {
      const res = await pay(body);
      expect(detailOf(res)).toEqual([422, detail]);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    });

    it('accepts the token as Authorization: Bearer and the amount as a number', async () => {
      const res = await pay({ amount: 12.5, currency: 'EUR' }, { authorization: `Bearer ${alice}` });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ amount: 12.5, currency: 'EUR', user_id: 1 });
    });

    it('answers 403 to charlie, who is disabled', async () => {
      const charlie = await tokenOf(auth.url, users.charlie);
      expect(claimsOf(charlie).enabled).toBe(false);
      expect(detailOf(await pay({ amount: 1, currency: 'USD', token: charlie }))).toEqual([
        403,
        'User not enabled for transactions',
      ]);
    });

    describe('refuses with 401', () => {
      const now = () => Math.floor(Date.now() / 1000);
      const aliceClaims = () => ({ user_id: 1, username: 'alice', enabled: true, sub: '1', iat: now() });

      it('an expired token', async () => {
        const expired = signToken({ ...aliceClaims(), iat: now() - 600, exp: now() - 300 }, secrets.jwt);
        const res = await pay({ amount: 1, currency: 'USD', token: expired });
        expect([res.status, res.body.code]).toEqual([401, 'token_expired']);
      });

      it('a tampered token', async () => {
        const [h, , s] = alice.split('.');
        const payload = Buffer.from(JSON.stringify({ ...claimsOf(alice), user_id: 2, sub: '2' })).toString(
          'base64url',
        );
        const res = await pay({ amount: 1, currency: 'USD', token: `${h}.${payload}.${s}` });
        expect([res.status, res.body.code]).toEqual([401, 'token_invalid']);
      });

      it('an alg none token', async () => {
        const head = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
        const none = `${head}.${alice.split('.')[1]}.`;
        const res = await pay({ amount: 1, currency: 'USD', token: none });
        expect([res.status, res.body.code]).toEqual([401, 'token_invalid']);
      });

      it('a token of another algorithm', async () => {
        const hs512 = signToken({ ...aliceClaims(), exp: now() + 60 }, secrets.jwt, 'HS512');
        const res = await pay({ amount: 1, currency: 'USD', token: hs512 });
        expect([res.status, res.body.code]).toEqual([401, 'token_invalid']);
      });

      it('a token signed with another secret', async () => {
        const foreign = signToken({ ...aliceClaims(), exp: now() + 60 }, secrets.foreign);
        const res = await pay({ amount: 1, currency: 'USD', token: foreign });
        expect([res.status, res.body.code]).toEqual([401, 'token_invalid']);
      });
    });

    describe('with an Idempotency-Key', () => {
      const key = { 'idempotency-key': 'order-2024-0001' };

      it('answers the same body with the same transaction and makes no second one', async () => {
        const first = await pay({ amount: '42', currency: 'GBP', token: alice }, key);
        const again = await pay({ amount: 42, currency: 'GBP', token: alice }, key);
        expect(first.status).toBe(200);
        expect(again.status).toBe(200);
        expect(again.body.id).toBe(first.body.id);
        expect(again.headers.get('idempotent-replayed')).toBe('true');
        const rows = await query(topo.databaseUrl, 'SELECT id FROM transactions WHERE idempotency_key = $1', [
          key['idempotency-key'],
        ]);
        expect(rows).toHaveLength(1);
      });

      it('answers another body with 409', async () => {
        const res = await pay({ amount: 43, currency: 'GBP', token: alice }, key);
        expect(res.status).toBe(409);
      });
    });
  });

  describe('GET /transaction/transaction/:id', () => {
    let mine: string;
    beforeAll(async () => {
      mine = (await pay({ amount: 9.99, currency: 'USD', token: alice })).body.id;
    });

    it("shows a transaction to its owner with the original's fields", async () => {
      const res = await get(`${api.url}/transaction/transaction/${mine}`, {
        authorization: `Bearer ${alice}`,
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: mine, amount: 9.99, currency: 'USD', user_id: 1 });
    });

    it('answers 404 to another user, as if it did not exist', async () => {
      const becky = await tokenOf(auth.url, users.becky);
      const res = await get(`${api.url}/transaction/transaction/${mine}`, {
        authorization: `Bearer ${becky}`,
      });
      expect(res.status).toBe(404);
    });

    it('answers 401 without a token', async () => {
      expect((await get(`${api.url}/transaction/transaction/${mine}`)).status).toBe(401);
    });
  });

  describe('secrets', () => {
    it('stores only salted scrypt hashes of passwords', async () => {
      const rows = await query<{ password_hash: string }>(
        topo.databaseUrl,
        'SELECT password_hash FROM users',
      );
      expect(rows.length).toBeGreaterThanOrEqual(3);
      for (const { password_hash } of rows) {
        expect(password_hash).toMatch(/^scrypt\$/);
        expect(password_hash).not.toContain('password');
      }
    });

    it('never writes a password to any log', () => {
      const lines = [...topo.processes.values()].flatMap((p) => p.output);
      expect(lines.length).toBeGreaterThan(10);
      expect(lines.filter((l) => l.includes(wrongPassword) || l.includes('"password"'))).toEqual([]);
    });
  });

  // Last, from a loopback address of its own: the limit counts per client address.
  describe('the login rate limit', () => {
    it('answers 429 with Retry-After past the limit, for that address only', async () => {
      const attempts: Answer[] = [];
      for (let i = 0; i <= RATE_LIMIT; i++)
        attempts.push(
          await postFrom('127.0.0.2', `${auth.url}/auth/token`, { username: 'alice', password: 'x' }),
        );
      expectEach(
        attempts.slice(0, RATE_LIMIT),
        (a) => a.status === 401,
        'each attempt below the limit to get 401',
      );
      const limited = attempts[RATE_LIMIT];
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await post(`${auth.url}/auth/token`, users.becky)).status).toBe(200);
    });
  });
});
