import { openTestSchema, type TestSchema } from '../../../test/harness/database.js';
import { testBoot } from '../../../test/harness/test-boot.js';
import { AppError } from '../../platform/errors/app-error.js';
import { authSettings } from './auth.settings.js';
import { DemoUsersSeeder } from './demo-users.seeder.js';
import { LoginRateLimiter, memoryLimiters } from './login-rate.limiter.js';
import { LoginUseCase, parseCredentials } from './login.use-case.js';
import { CreateUsers1764100000000 } from './migrations/1764100000000-create-users.js';
import { PasswordHasher } from './password.hasher.js';
import { TokenService } from './token.service.js';

const POLICY = { ttlS: 300, issuer: 'polyrole-auth', audience: 'polyrole', skewS: 30 };
import { UserEntity } from './user.entity.js';
import { UsersRepository } from './users.repository.js';

const limits = {
  perAddress: { max: 20, windowMs: 60_000 },
  perUsername: { max: 3, windowMs: 60_000 },
};
const addresses = { alice: '192.0.2.1', mallory: '192.0.2.66' };
const logins = {
  alice: { username: 'alice', password: 'password' },
  charlie: { username: 'charlie', password: 'password' },
  aliceWrong: { username: 'alice', password: 'hunter2' },
  stranger: { username: 'nobody', password: 'password' },
};

async function answerOf(p: Promise<unknown>): Promise<[number, string]> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError) return [err.status, err.message];
    throw err;
  }
  return [200, 'ok'];
}

describe(LoginUseCase.name, () => {
  let db: TestSchema;
  let login: LoginUseCase;
  const tokens = new TokenService('s'.repeat(32), POLICY, () => 1_700_000_000);

  beforeAll(async () => {
    db = await openTestSchema({ entities: [UserEntity], migrations: [CreateUsers1764100000000] });
    const users = new UsersRepository(db.dataSource);
    const hasher = new PasswordHasher(10);
    await new DemoUsersSeeder(users, hasher, testBoot([[authSettings, {}]])).onModuleInit();
    login = new LoginUseCase(users, hasher, tokens, new LoginRateLimiter(memoryLimiters(limits)));
    await login.onModuleInit();
  });
  afterAll(() => db.drop());

  it("issues alice's token for her password", async () => {
    const { token } = await login.execute(logins.alice, addresses.alice);
    expect(tokens.verify(token)).toMatchObject({ user_id: 1, username: 'alice', enabled: true });
  });

  it('issues a token with enabled false to disabled charlie, as the original did', async () => {
    const { token } = await login.execute(logins.charlie, addresses.alice);
    expect(tokens.verify(token)).toMatchObject({ user_id: 3, username: 'charlie', enabled: false });
  });

  it('answers a wrong password and an unknown user with the same 401', async () => {
    expect(await answerOf(login.execute(logins.aliceWrong, addresses.alice))).toEqual([
      401,
      'Invalid credentials',
    ]);
    expect(await answerOf(login.execute(logins.stranger, addresses.alice))).toEqual([
      401,
      'Invalid credentials',
    ]);
  });

  it('stores only salted hashes of the demo passwords', async () => {
    const rows: Array<{ id: number; username: string; password_hash: string; enabled: boolean }> =
      await db.dataSource.query('SELECT id, username, password_hash, enabled FROM users ORDER BY id');
    expect(rows.map((r) => [r.id, r.username, r.enabled])).toEqual([
      [1, 'alice', true],
      [2, 'becky', true],
      [3, 'charlie', false],
    ]);
    for (const r of rows) expect(r.password_hash).toMatch(/^scrypt\$/);
    expect(new Set(rows.map((r) => r.password_hash)).size).toBe(3);
  });

  it('leaves existing users alone when seeding again, and new users get fresh ids', async () => {
    const users = new UsersRepository(db.dataSource);
    const seeder = new DemoUsersSeeder(users, new PasswordHasher(10), testBoot([[authSettings, {}]]));
    await seeder.onModuleInit();
    expect(
      await users.insertMissing([{ username: 'dora', passwordHash: 'scrypt$x', enabled: true }]),
    ).toEqual(['dora']);
    expect((await users.findByUsername('dora'))?.id).toBe(4);
  });

  it('answers 429 with Retry-After on the attempt after an address has used up its attempts, not before', async () => {
    const allowed: number[] = [];
    for (let i = 0; i < limits.perAddress.max; i++)
      allowed.push((await answerOf(login.execute({}, addresses.mallory)))[0]);
    expect(allowed).toEqual(Array(limits.perAddress.max).fill(422));
    const refused = await login.execute({}, addresses.mallory).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ status: 429, headers: { 'retry-after': '60' } });
  });
});

describe(`${LoginUseCase.name} per username`, () => {
  let db: TestSchema;
  let login: LoginUseCase;

  beforeAll(async () => {
    db = await openTestSchema({ entities: [UserEntity], migrations: [CreateUsers1764100000000] });
    const users = new UsersRepository(db.dataSource);
    const hasher = new PasswordHasher(10);
    await new DemoUsersSeeder(users, hasher, testBoot([[authSettings, {}]])).onModuleInit();
    const limits = { perAddress: { max: 100, windowMs: 60_000 }, perUsername: { max: 2, windowMs: 60_000 } };
    login = new LoginUseCase(
      users,
      hasher,
      new TokenService('s'.repeat(32), POLICY, () => 0),
      new LoginRateLimiter(memoryLimiters(limits)),
    );
    await login.onModuleInit();
  });
  afterAll(() => db.drop());

  it('answers 429 for a username whose failed attempts came from many addresses, even with its password', async () => {
    await answerOf(login.execute(logins.aliceWrong, '198.51.100.1'));
    await answerOf(login.execute(logins.aliceWrong, '198.51.100.2'));
    expect(await answerOf(login.execute(logins.alice, '198.51.100.3'))).toEqual([
      429,
      'Too many login attempts; try again later',
    ]);
    expect((await answerOf(login.execute(logins.charlie, '198.51.100.3')))[0]).toBe(200);
  });
});

describe('parseCredentials', () => {
  it.each([
    [{}, 'Username is blank'],
    [{ username: '  ', password: 'x' }, 'Username is blank'],
    [{ username: 7, password: 'x' }, 'Username is blank'],
    [{ username: 'alice' }, 'Password is blank'],
    [{ username: 'alice', password: '' }, 'Password is blank'],
    [[], 'Username is blank'],
    [null, 'Username is blank'],
  ])('answers %j with 422 %s', (body, detail) => {
    expect(() => parseCredentials(body)).toThrow(detail);
  });
});
