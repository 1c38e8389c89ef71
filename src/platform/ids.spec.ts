import { timeOrderedUuid } from './ids.js';

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
});
