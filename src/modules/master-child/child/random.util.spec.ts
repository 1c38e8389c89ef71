import { createRandom, seedFromString, uniformInt, xoshiro128 } from './random.util.js';

const seeds = { answer: '42', child: 'child-a' };

describe('xoshiro128', () => {
  it('produces a fixed sequence for a seed, so CHILD_SEED runs are reproducible', () => {
    const next = xoshiro128(seedFromString(seeds.answer));
    expect([next(), next(), next()]).toEqual([660444221, 3652823732, 77672526]);
  });

  it('produces different sequences for different seeds', () => {
    const a = createRandom(seeds.answer);
    const b = createRandom(seeds.child);
    expect([a(), a()]).not.toEqual([b(), b()]);
  });
});

describe('seedFromString', () => {
  it('uses a decimal seed as is and hashes any other text', () => {
    expect(seedFromString('42')).toBe(42);
    expect(seedFromString(seeds.child)).toBe(1073904931);
  });
});

describe('uniformInt', () => {
  it('draws a fixed sequence from a seeded generator', () => {
    const next = createRandom(seeds.answer);
    expect(Array.from({ length: 8 }, () => uniformInt(next, 0, 100))).toEqual([
      21, 32, 26, 33, 56, 77, 64, 76,
    ]);
  });

  it('stays in [min, max) and hits every value about equally often', () => {
    const next = createRandom(seeds.answer);
    const counts = new Map<number, number>();
    for (let i = 0; i < 40_000; i++) {
      const n = uniformInt(next, 5, 9);
      counts.set(n, (counts.get(n) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([5, 6, 7, 8]);
    for (const c of counts.values()) expect(Math.abs(c - 10_000)).toBeLessThan(500);
  });

  it('refuses an empty range', () => {
    expect(() => uniformInt(createRandom(seeds.answer), 3, 3)).toThrow(RangeError);
  });
});
