import type { DataSource } from 'typeorm';
import { createReopenableSchema, type ReopenableSchema } from '../../../test/harness/database.js';
import {
  LOGIN_ATTEMPTS_TABLE,
  LoginRateLimiter,
  memoryLimiters,
  postgresLimiters,
} from './login-rate.limiter.js';
import { CreateLoginAttempts1764200000000 } from './migrations/1764200000000-create-login-attempts.js';

const addresses = { alice: '10.0.0.1', mallory: '10.0.0.66', spray: ['10.0.1.1', '10.0.1.2', '10.0.1.3'] };
const limits = { perAddress: { max: 3, windowMs: 60_000 }, perUsername: { max: 2, windowMs: 60_000 } };

describe(LoginRateLimiter.name, () => {
  let schema: ReopenableSchema;
  let db: DataSource;
  /** A limiter as one auth replica holds it, on the shared database. */
  const replica = (on: DataSource = db) => new LoginRateLimiter(postgresLimiters(on, limits));

  beforeAll(async () => {
    schema = await createReopenableSchema({ migrations: [CreateLoginAttempts1764200000000] }, 'limiter');
    db = await schema.connect();
  });
  beforeEach(() => db.query(`DELETE FROM ${LOGIN_ATTEMPTS_TABLE}`));
  afterAll(() => schema?.dispose());

  it('allows the configured number of attempts per address and window', async () => {
    const l = replica();
    const waits = [];
    for (let i = 0; i < 3; i++) waits.push(await l.attempt(addresses.alice));
    expect(waits).toEqual([0, 0, 0]);
  });

  it('answers the seconds left in the window once it is used up', async () => {
    const l = replica();
    for (let i = 0; i < 3; i++) await l.attempt(addresses.mallory);
    const wait = await l.attempt(addresses.mallory);
    expect(wait).toBeGreaterThanOrEqual(59);
    expect(wait).toBeLessThanOrEqual(60);
  });

  it('counts each address on its own', async () => {
    const l = replica();
    for (let i = 0; i < 4; i++) await l.attempt(addresses.mallory);
    expect(await l.attempt(addresses.alice)).toBe(0);
  });

  it('shares one count between replicas on the same database', async () => {
    const [a, b] = [replica(), replica(await schema.connect())];
    await a.attempt(addresses.mallory);
    await b.attempt(addresses.mallory);
    await a.attempt(addresses.mallory);
    expect(await b.attempt(addresses.mallory)).toBeGreaterThan(0);
  });

  it('keeps the count for a replica started afterwards (a restart)', async () => {
    for (let i = 0; i < 3; i++) await replica().attempt(addresses.mallory);
    expect(await replica(await schema.connect()).attempt(addresses.mallory)).toBeGreaterThan(0);
  });

  it('starts a new window once the old one has passed', async () => {
    const l = replica();
    for (let i = 0; i < 4; i++) await l.attempt(addresses.mallory);
    await db.query(`UPDATE ${LOGIN_ATTEMPTS_TABLE} SET expire = 0`);
    expect(await l.attempt(addresses.mallory)).toBe(0);
  });

  it('stops a username after its failed attempts, from whatever address they come', async () => {
    const l = replica();
    expect(await l.usernameWait('alice')).toBe(0);
    await l.failed('alice');
    expect(await l.usernameWait('alice')).toBe(0);
    await l.failed('alice');
    expect(await l.usernameWait('alice')).toBeGreaterThan(0);
    expect(await l.usernameWait('becky')).toBe(0);
    for (const address of addresses.spray) expect(await l.attempt(address)).toBe(0);
  });

  it('does not store usernames longer than any user can have', async () => {
    const l = replica();
    await l.failed('x'.repeat(300));
    expect(await l.usernameWait('x'.repeat(300))).toBe(0);
    expect(await db.query(`SELECT key FROM ${LOGIN_ATTEMPTS_TABLE}`)).toEqual([]);
  });

  it('falls back to counting in memory when the database cannot answer', async () => {
    const gone = await schema.connect();
    const l = replica(gone);
    await gone.destroy();
    for (let i = 0; i < 3; i++) expect(await l.attempt(addresses.mallory)).toBe(0);
    expect(await l.attempt(addresses.mallory)).toBeGreaterThan(0);
  });

  it('lets every attempt through when the limits are off', async () => {
    const off = { max: 0, windowMs: 0 };
    const l = new LoginRateLimiter(memoryLimiters({ perAddress: off, perUsername: off }));
    for (let i = 0; i < 50; i++) await l.attempt(addresses.mallory);
    expect(await l.attempt(addresses.mallory)).toBe(0);
  });
});
