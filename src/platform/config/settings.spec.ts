import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { int } from './parsers.js';
import { clearConfigFileCache, ConfigError, defineSettings, resolveSettings } from './settings.js';
import { tempDir } from '../../../test/harness/temp-dir.js';

const schema = defineSettings({
  port: {
    env: ['ECHO_PORT', 'SERVER_PORT'],
    file: { name: 'echo.yaml', key: 'server.port' },
    default: 12345,
    parse: int(),
  },
  backlog: { env: 'ECHO_BACKLOG', default: 511, parse: int({ min: 1 }) },
});

function configDir(yaml: string): string {
  const dir = tempDir('settings');
  writeFileSync(join(dir, 'echo.yaml'), yaml);
  clearConfigFileCache();
  return dir;
}

describe(resolveSettings.name, () => {
  it('uses the default when neither env nor file sets a value', () => {
    expect(resolveSettings(schema, { env: {}, configDir: configDir('') }).port).toBe(12345);
  });

  it('prefers the config file over the default', () => {
    expect(resolveSettings(schema, { env: {}, configDir: configDir('server:\n  port: 2000\n') }).port).toBe(
      2000,
    );
  });

  it('prefers the environment over the config file, aliases included', () => {
    const dir = configDir('server:\n  port: 2000\n');
    expect(resolveSettings(schema, { env: { ECHO_PORT: '3000' }, configDir: dir }).port).toBe(3000);
    expect(resolveSettings(schema, { env: { SERVER_PORT: '4000' }, configDir: dir }).port).toBe(4000);
  });

  it('names every offending variable in one error', () => {
    try {
      resolveSettings(schema, { env: { ECHO_PORT: 'x', ECHO_BACKLOG: '0' }, configDir: configDir('') });
      throw new Error('expected a ConfigError');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).problems).toEqual([
        'ECHO_PORT: must be an integer (got "x")',
        'ECHO_BACKLOG: must be >= 1 (got "0")',
      ]);
    }
  });
});

describe('settings policies', () => {
  const guarded = defineSettings(
    {
      min: { env: 'LOW', default: 0, parse: int() },
      max: { env: 'HIGH', default: 10, parse: int() },
      token: { env: 'TOKEN', optional: true, secret: true, parse: (raw: unknown) => String(raw) },
    },
    {
      policies: [
        (s) => (s.min >= s.max ? `LOW (${s.min}) must be below HIGH (${s.max})` : undefined),
        (s, { production }) => (production && !s.token ? 'TOKEN is required in production' : undefined),
      ],
    },
  );
  const resolveIn = (env: Record<string, string>, production: boolean) =>
    resolveSettings(guarded, { env, configDir: configDir(''), deployment: { production } });
  const problemsOf = (fn: () => unknown): string[] => {
    try {
      fn();
    } catch (e) {
      if (e instanceof ConfigError) return e.problems;
      throw e;
    }
    return [];
  };

  it('checks a rule across fields when the settings are resolved', () => {
    expect(problemsOf(() => resolveIn({ LOW: '5', HIGH: '5' }, false))).toEqual([
      'LOW (5) must be below HIGH (5)',
    ]);
  });

  it('checks a rule tied to the deployment, and lets the other deployments pass', () => {
    expect(problemsOf(() => resolveIn({}, true))).toEqual(['TOKEN is required in production']);
    expect(resolveIn({}, false)).toEqual({ min: 0, max: 10, token: undefined });
    expect(resolveIn({ TOKEN: 't' }, true)).toMatchObject({ token: 't' });
  });

  it('reports every broken policy at once', () => {
    expect(problemsOf(() => resolveIn({ LOW: '9', HIGH: '1' }, true))).toEqual([
      'LOW (9) must be below HIGH (1)',
      'TOKEN is required in production',
    ]);
  });

  it('runs no policy over values that did not parse (their own problems are reported instead)', () => {
    expect(problemsOf(() => resolveIn({ LOW: 'x' }, true))).toEqual(['LOW: must be an integer (got "x")']);
  });
});
