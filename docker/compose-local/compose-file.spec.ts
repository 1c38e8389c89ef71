import {
  ComposeError,
  dependsOn,
  durationMs,
  interpolate,
  parseDotEnv,
  publishedPort,
} from './compose-file.js';

const shell = { SET: 'value', EMPTY: '' };

describe('interpolate', () => {
  it('substitutes ${VAR} and leaves an unset one empty', () => {
    expect(interpolate('a=${SET} b=${UNSET}', shell)).toBe('a=value b=');
  });

  it('uses the :- default when the variable is unset or empty, the - default only when unset', () => {
    expect(interpolate(['${UNSET:-d}', '${EMPTY:-d}', '${EMPTY-d}', '${SET:-d}'], shell)).toEqual([
      'd',
      'd',
      '',
      'value',
    ]);
  });

  it('names every unsatisfied ${VAR:?message} at once', () => {
    const file = { a: '${FIRST:?set FIRST}', b: { c: '${EMPTY:?set EMPTY}' }, d: '${SET:?never}' };

    expect(() => interpolate(file, shell)).toThrow(ComposeError);
    expect(() => interpolate(file, shell)).toThrow('FIRST: set FIRST\nEMPTY: set EMPTY');
  });

  it('turns $$ into a literal $', () => {
    expect(interpolate('cost $$5 ${SET}', shell)).toBe('cost $5 value');
  });
});

describe('parseDotEnv', () => {
  it('reads KEY=value lines, skipping comments and blanks and removing one level of quotes', () => {
    const text = '# comment\n\nA=1\nB="two words"\nC=\'x\'\nexport D=4\nE=5 # trailing\nF=\n';

    expect(parseDotEnv(text)).toEqual({ A: '1', B: 'two words', C: 'x', D: '4', E: '5', F: '' });
  });
});

describe('publishedPort', () => {
  it('reads HOST:CONTAINER with an optional address and protocol', () => {
    expect(publishedPort('8080:80')).toEqual({ host: 8080, container: 80 });
    expect(publishedPort('127.0.0.1:5000:50051/tcp')).toEqual({ host: 5000, container: 50051 });
  });

  it('rejects a container port without a host port', () => {
    expect(() => publishedPort('3000')).toThrow(/HOST:CONTAINER/);
  });
});

describe('durationMs', () => {
  it('adds up compose duration units, with a fallback when absent', () => {
    expect(durationMs('1m30s')).toBe(90_000);
    expect(durationMs('250ms')).toBe(250);
    expect(durationMs(undefined, 7)).toBe(7);
  });
});

describe('dependsOn', () => {
  it('reads the list form as service_started and the map form as given', () => {
    expect(dependsOn({ depends_on: ['a'] })).toEqual({ a: 'service_started' });
    expect(dependsOn({ depends_on: { b: { condition: 'service_healthy' } } })).toEqual({
      b: 'service_healthy',
    });
  });
});
