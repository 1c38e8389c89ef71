import { isoString } from './clock.js';

describe(isoString.name, () => {
  it('gives what toISOString gives, for the same millisecond again, the next one and far-off years', () => {
    const times = [
      1_800_000_000_000, 1_800_000_000_000, 1_800_000_000_001, 1_800_000_000_000, 0, -1, -62_198_755_200_000,
      8.64e15, 1_800_000_000_999,
    ];
    for (const t of times) expect(isoString(new Date(t))).toBe(new Date(t).toISOString());
  });

  it('throws for an invalid date, as toISOString does, and is right again after it', () => {
    expect(() => isoString(new Date(Number.NaN))).toThrow(RangeError);
    expect(isoString(new Date(5))).toBe('1970-01-01T00:00:00.005Z');
  });
});
