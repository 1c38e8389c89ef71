import { parseRateLimit } from './auth.settings.js';

describe('parseRateLimit', () => {
  it.each([
    ['10/60s', { max: 10, windowMs: 60_000 }],
    ['10/1m', { max: 10, windowMs: 60_000 }],
    [' 5 / 30s ', { max: 5, windowMs: 30_000 }],
    ['off', { max: 0, windowMs: 0 }],
  ])('reads %j', (raw, limit) => {
    expect(parseRateLimit(raw)).toEqual(limit);
  });

  it.each(['10', '10/', 'ten/60s', '0/60s', '10/500ms'])('refuses %j', (raw) => {
    expect(() => parseRateLimit(raw)).toThrow();
  });
});
