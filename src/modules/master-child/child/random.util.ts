// A small seeded PRNG (xoshiro128**, seeded through splitmix32) and unbiased integer draws, so a child given
// CHILD_SEED draws the same numbers on every run and every platform.
import { randomBytes } from 'node:crypto';

/** Returns the next uniformly distributed unsigned 32-bit integer. */
export type Random32 = () => number;

const TWO_32 = 2 ** 32;

function splitmix32(seed: number): Random32 {
  let a = seed | 0;
  return () => {
    a = (a + 0x9e3779b9) | 0;
    let t = a ^ (a >>> 16);
    t = Math.imul(t, 0x21f0aaad);
    t ^= t >>> 15;
    t = Math.imul(t, 0x735a2d97);
    return (t ^ (t >>> 15)) >>> 0;
  };
}

const rotl = (x: number, k: number) => (x << k) | (x >>> (32 - k));

/** xoshiro128** seeded from a 32-bit seed. */
export function xoshiro128(seed: number): Random32 {
  const init = splitmix32(seed);
  let a = init();
  let b = init();
  let c = init();
  let d = init();
  if ((a | b | c | d) === 0) a = 1;
  return () => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };
}

/** A decimal seed up to 2^32-1 is used as is; any other text is hashed (FNV-1a). */
export function seedFromString(text: string): number {
  if (/^\d{1,10}$/.test(text) && Number(text) < TWO_32) return Number(text);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The generator for CHILD_SEED, or a freshly seeded one when no seed is given. */
export function createRandom(seed?: string): Random32 {
  return xoshiro128(seed === undefined ? randomBytes(4).readUInt32LE(0) : seedFromString(seed));
}

/** A uniform integer in [min, max), without modulo bias (rejection sampling); max - min at most 2^32. */
export function uniformInt(next: Random32, min: number, max: number): number {
  const n = max - min;
  if (!Number.isSafeInteger(n) || n <= 0 || n > TWO_32)
    throw new RangeError(`cannot draw from [${min}, ${max})`);
  const limit = TWO_32 - (TWO_32 % n);
  for (;;) {
    const u = next();
    if (u < limit) return min + (u % n);
  }
}

/**
 * The seed of the `ordinal`-th child (1-based) a master started with a master seed: distinct per child, the same on
 * every run, so a whole run of children is reproducible.
 */
export function childSeedOf(masterSeed: string, ordinal: number): string {
  return `${masterSeed}/${ordinal}`;
}
