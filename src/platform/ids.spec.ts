import { hex48, timeOrderedUuid } from './ids.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe(timeOrderedUuid.name, () => {
  it('makes RFC 9562 version 7 UUIDs whose first 48 bits are the current time in milliseconds', () => {
    const before = Date.now();
    const id = timeOrderedUuid();
    const after = Date.now();
    expect(id).toMatch(V7);
    const ms = parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(after);
  });

  it('sorts ids made in later milliseconds after earlier ones, and never repeats one', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(timeOrderedUuid());
      await new Promise((r) => setTimeout(r, 2));
    }
    expect([...ids].sort()).toEqual(ids);
    const many = Array.from({ length: 10_000 }, timeOrderedUuid);
    expect(new Set(many).size).toBe(many.length);
  });

  it('sorts ids made within one millisecond in the order they were made: a counter follows the random bits', () => {
    const ids = Array.from({ length: 2_000 }, timeOrderedUuid);
    expect([...ids].sort()).toEqual(ids);
    let sameMs = 0;
    for (let i = 1; i < ids.length; i++) {
      if (ids[i].slice(0, 13) !== ids[i - 1].slice(0, 13)) continue;
      sameMs++;
      expect(ids[i].slice(0, 24)).toBe(ids[i - 1].slice(0, 24));
      expect(BigInt(`0x${ids[i].slice(24)}`) - BigInt(`0x${ids[i - 1].slice(24)}`)).toBe(1n);
    }
    expect(sameMs).toBeGreaterThan(0);
  });

  it('writes the counter as twelve hex digits, carrying across its 24-bit halves', () => {
    expect(hex48(0)).toBe('000000000000');
    expect(hex48(0xffffff)).toBe('000000ffffff');
    expect(hex48(0x1000000)).toBe('000001000000');
    expect(hex48(0xabcdef123456)).toBe('abcdef123456');
    expect(hex48(2 ** 48 - 1)).toBe('ffffffffffff');
  });
});
