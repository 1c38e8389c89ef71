import { childEnvOf, dnsLabel, roleEnv, TailBuffer } from './child-spawner.js';

describe(TailBuffer.name, () => {
  it('keeps only the last bytes written', () => {
    const tail = new TailBuffer(8);
    tail.push('hello ');
    tail.push(Buffer.from('world'));
    tail.push('!');
    expect(tail.toString()).toBe('o world!');
  });
});

describe('childEnvOf', () => {
  it('turns a launch into the child settings variables', () => {
    const env = childEnvOf({
      id: 'c1',
      secret: 'secret-of-c1-0123456789',
      min: 0,
      max: 100,
      count: 10,
      masterAddr: { host: 'master', port: 4000 },
      seed: '7',
    });
    expect(env).toEqual({
      CHILD_ID: 'c1',
      CHILD_SECRET: 'secret-of-c1-0123456789',
      CHILD_MIN: '0',
      CHILD_MAX: '100',
      CHILD_COUNT: '10',
      CHILD_SEED: '7',
      MASTER_ADDR: 'master:4000',
    });
  });

  it('brackets an IPv6 master address', () => {
    const env = childEnvOf({
      id: 'c1',
      secret: 's',
      min: 0,
      max: 1,
      count: 1,
      masterAddr: { host: '::1', port: 4000 },
    });
    expect(env.MASTER_ADDR).toBe('[::1]:4000');
  });
});

describe('roleEnv', () => {
  it('sets ROLE=child and the child id over anything the spec carries', () => {
    expect(roleEnv({ id: 'c1', env: { ROLE: 'all', CHILD_ID: 'x', A: '1' } })).toEqual({
      ROLE: 'child',
      CHILD_ID: 'c1',
      A: '1',
    });
  });
});

describe('dnsLabel', () => {
  it('makes a lower-case DNS label of at most 63 characters', () => {
    expect(dnsLabel('polyrole-child', 'AB_c.d')).toBe('polyrole-child-ab-c-d');
    expect(dnsLabel('p', 'x'.repeat(80))).toHaveLength(63);
  });
});
