import { parseGoDuration, hostPort } from './parsers.js';

describe('parseGoDuration', () => {
  it('reads Go duration syntax into milliseconds', () => {
    expect(parseGoDuration('1m5s')).toBe(65_000);
    expect(parseGoDuration('250ms')).toBe(250);
    expect(parseGoDuration('1.5h')).toBe(5_400_000);
  });
  it('rejects text that is not a duration', () => {
    expect(() => parseGoDuration('5 seconds')).toThrow(/invalid duration/);
    expect(() => parseGoDuration('10')).toThrow(/invalid duration/);
  });
});

describe('hostPort', () => {
  it('splits host and port', () => {
    expect(hostPort()('exchange:4000')).toEqual({ host: 'exchange', port: 4000 });
  });
});
