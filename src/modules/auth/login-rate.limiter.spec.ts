import { LoginRateLimiter } from './login-rate.limiter.js';

const addresses = { alice: '10.0.0.1', mallory: '10.0.0.66' };

describe(LoginRateLimiter.name, () => {
  let now = 0;
  const limiter = () => new LoginRateLimiter({ max: 3, windowMs: 60_000 }, () => now);
  beforeEach(() => (now = 1_000_000));

  it('allows the configured number of attempts per window', () => {
    const l = limiter();
    expect([l.hit(addresses.alice), l.hit(addresses.alice), l.hit(addresses.alice)]).toEqual([0, 0, 0]);
  });

  it('answers the seconds left in the window once it is used up', () => {
    const l = limiter();
    for (let i = 0; i < 3; i++) l.hit(addresses.mallory);
    now += 15_500;
    expect(l.hit(addresses.mallory)).toBe(45);
  });

  it('counts each address on its own', () => {
    const l = limiter();
    for (let i = 0; i < 4; i++) l.hit(addresses.mallory);
    expect(l.hit(addresses.alice)).toBe(0);
  });

  it('starts a new window once the old one has passed', () => {
    const l = limiter();
    for (let i = 0; i < 4; i++) l.hit(addresses.mallory);
    now += 60_000;
    expect(l.hit(addresses.mallory)).toBe(0);
  });

  it('never limits when turned off', () => {
    const l = new LoginRateLimiter({ max: 0, windowMs: 0 }, () => now);
    for (let i = 0; i < 100; i++) expect(l.hit(addresses.mallory)).toBe(0);
  });
});
