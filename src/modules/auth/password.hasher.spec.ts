import { PasswordHasher } from './password.hasher.js';

const passwords = { alice: 'password', wrong: 'passw0rd' };

describe(PasswordHasher.name, () => {
  const hasher = new PasswordHasher(10);

  it('stores a self-describing scrypt hash that does not contain the password', async () => {
    const hash = await hasher.hash(passwords.alice);
    expect(hash).toMatch(/^scrypt\$10\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(hash).not.toContain(passwords.alice);
  });

  it('salts every hash, so equal passwords hash differently', async () => {
    expect(await hasher.hash(passwords.alice)).not.toBe(await hasher.hash(passwords.alice));
  });

  it('accepts the right password and refuses a wrong one', async () => {
    const hash = await hasher.hash(passwords.alice);
    expect(await hasher.verify(passwords.alice, hash)).toBe(true);
    expect(await hasher.verify(passwords.wrong, hash)).toBe(false);
  });

  it('verifies a hash made with another cost, read from the hash itself', async () => {
    const hash = await new PasswordHasher(11).hash(passwords.alice);
    expect(await hasher.verify(passwords.alice, hash)).toBe(true);
  });

  it('refuses anything that is not a scrypt hash', async () => {
    expect(await hasher.verify(passwords.alice, passwords.alice)).toBe(false);
  });
});
