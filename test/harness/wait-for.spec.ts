import { expectEach } from './expect-each.js';
import { waitFor } from './wait-for.js';

describe(waitFor.name, () => {
  it('returns what the probe answered once it answers', async () => {
    let looks = 0;
    await expect(waitFor(async () => (++looks >= 3 ? { looks } : undefined), 'three looks')).resolves.toEqual(
      {
        looks: 3,
      },
    );
  });

  it('keeps looking past a probe that throws, and names what it waited for and the last error when it gives up', async () => {
    const waiting = waitFor(
      () => {
        throw new Error('connection refused');
      },
      'the server',
      { limitMs: 30 },
    );
    await expect(waiting).rejects.toThrow(
      'timed out after 30 ms waiting for the server (last error: connection refused)',
    );
  });
});

describe(expectEach.name, () => {
  it('passes when every item satisfies the rule', () => {
    expect(() => expectEach([0, 0], (c) => c === 0, 'every code 0')).not.toThrow();
  });

  it('fails on an empty list', () => {
    expect(() => expectEach({}, (c) => c === 0, 'every role to exit 0')).toThrow(
      'expected every role to exit 0, but there is none to check',
    );
  });

  it('names each offending item by its key or position', () => {
    expect(() => expectEach({ exchange: 0, psp: 137 }, (c) => c === 0, 'every role to exit 0')).toThrow(
      'expected every role to exit 0; 1 of 2 do not: psp 137',
    );
    expect(() => expectEach([1, 2, 1], (n) => n === 1, 'each paid once')).toThrow(
      'expected each paid once; 1 of 3 do not: #1 2',
    );
  });
});
