import { Backoff, backoffDelay } from './backoff.util.js';

const policy = { initialMs: 100, maxMs: 2_000 };
const top = () => 1;
const bottom = () => 0;

describe(backoffDelay.name, () => {
  it('doubles the ceiling from initialMs on each attempt', () => {
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(a, policy, top))).toEqual([100, 200, 400, 800, 1600]);
  });

  it('stops growing at maxMs, however many attempts', () => {
    expect([6, 7, 50, 10_000].map((a) => backoffDelay(a, policy, top))).toEqual([2000, 2000, 2000, 2000]);
  });

  it('waits at least half the ceiling, so waits still grow at the unluckiest draw', () => {
    expect([1, 2, 3, 6].map((a) => backoffDelay(a, policy, bottom))).toEqual([50, 100, 200, 1000]);
  });

  it('spreads callers over the upper half of the ceiling', () => {
    expect(backoffDelay(3, policy, () => 0.5)).toBe(300);
    const draws = new Set(Array.from({ length: 50 }, () => backoffDelay(3, policy)));
    expect(draws.size).toBeGreaterThan(1);
    for (const d of draws) {
      expect(d).toBeGreaterThanOrEqual(200);
      expect(d).toBeLessThanOrEqual(400);
    }
  });
});

describe(Backoff.name, () => {
  it('grows with each failure and starts over after reset()', () => {
    const backoff = new Backoff(policy, top);
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([100, 200, 400]);
    backoff.reset();
    expect(backoff.next()).toBe(100);
  });
});
