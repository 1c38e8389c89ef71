import { ConfigError, resolveSettings } from '../../platform/config/settings.js';
import { childSettings, masterSettings } from './master.settings.js';
import { createChildSpawner } from './spawners/spawner.factory.js';

const noConfigDir = '/nonexistent-config';
const resolve = <S extends Parameters<typeof resolveSettings>[0]>(schema: S, env: Record<string, string>) =>
  resolveSettings(schema, { env, configDir: noConfigDir, deployment: { production: false } });

describe('masterSettings', () => {
  it('defaults to a range of 10,000,000 and the process spawner', () => {
    expect(resolve(masterSettings, {})).toMatchObject({
      range: 10_000_000,
      spawner: 'process',
      dockerHost: 'unix:///var/run/docker.sock',
      childNetwork: undefined,
    });
  });

  it('names every bad variable at once', () => {
    expect(() =>
      resolve(masterSettings, { MASTER_RANGE: '0', MASTER_SPAWNER: 'ssh', DOCKER_HOST: 'ftp://x' }),
    ).toThrow(
      expect.objectContaining({
        problems: [
          expect.stringMatching(/^MASTER_RANGE/),
          expect.stringMatching(/^MASTER_SPAWNER/),
          expect.stringMatching(/^DOCKER_HOST/),
        ],
      }),
    );
  });
});

describe('childSettings', () => {
  const env = {
    CHILD_ID: 'c1',
    CHILD_MIN: '5',
    CHILD_MAX: '10',
    CHILD_SEED: '42',
    CHILD_SECRET: 'secret-handed-at-spawn',
    MASTER_ADDR: 'master:4000',
  };

  it('reads the child job from its environment', () => {
    expect(resolve(childSettings, env)).toMatchObject({
      id: 'c1',
      min: 5,
      max: 10,
      count: 1000,
      seed: '42',
      secret: 'secret-handed-at-spawn',
      masterAddr: { host: 'master', port: 4000 },
    });
  });

  it('requires the secret the master handed at spawn, and does not echo a bad one', () => {
    const { CHILD_SECRET: _, ...unsigned } = env;
    expect(() => resolve(childSettings, unsigned)).toThrow(
      expect.objectContaining({ problems: ['CHILD_SECRET is required'] }),
    );
    expect(() => resolve(childSettings, { ...env, CHILD_SECRET: 'short' })).toThrow(
      expect.objectContaining({ problems: [expect.not.stringContaining('short')] }),
    );
  });

  it('reports 10,000 numbers per batch, 4 batches in flight, unless told otherwise', () => {
    expect(resolve(childSettings, env)).toMatchObject({ batchSize: 10_000, maxInFlight: 4 });
    expect(resolve(childSettings, { ...env, CHILD_BATCH_SIZE: '1000' }).batchSize).toBe(1000);
  });

  it('requires CHILD_ID and a range with min below max', () => {
    expect(() => resolve(childSettings, {})).toThrow(ConfigError);
    expect(() => resolve(childSettings, { ...env, CHILD_MIN: '10' })).toThrow(
      expect.objectContaining({ problems: ['CHILD_MIN (10) must be below CHILD_MAX (10)'] }),
    );
  });
});

describe('createChildSpawner', () => {
  it('builds the spawner MASTER_SPAWNER names', async () => {
    const spawnerOf = async (env: Record<string, string>) =>
      (await createChildSpawner(resolve(masterSettings, env))).kind;
    expect(await spawnerOf({ MASTER_SPAWNER: 'docker' })).toBe('docker');
    expect(await spawnerOf({})).toBe('process');
    expect(await spawnerOf({ MASTER_SPAWNER: 'kubernetes', KUBERNETES_SERVICE_HOST: '10.96.0.1' })).toBe(
      'kubernetes',
    );
  });

  it('refuses the kubernetes spawner outside a pod when the settings are resolved', () => {
    expect(() => resolve(masterSettings, { MASTER_SPAWNER: 'kubernetes' })).toThrow(
      expect.objectContaining({
        problems: ['MASTER_SPAWNER=kubernetes needs KUBERNETES_SERVICE_HOST (set inside a pod)'],
      }),
    );
  });
});
