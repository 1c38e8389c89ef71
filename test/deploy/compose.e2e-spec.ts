// docker-compose.yml is accepted by Debian's docker-compose (v1, the strictest schema CI has), and refuses to
// start without JWT_SECRET. No container engine is needed: `config` only validates and interpolates.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { ensureCommand } from '../harness/tools.js';
import { composeEnvForTests, repoRoot } from './deploy-files.util.js';

describe('docker-compose.yml', () => {
  let work: string;
  // An empty env file, so a developer's .env cannot change the outcome.
  let emptyEnvFile: string;

  beforeAll(async () => {
    await ensureCommand('docker-compose', 'docker-compose');
    work = mkdtempSync(join(tmpdir(), 'polyrole-compose-'));
    emptyEnvFile = join(work, 'empty.env');
    writeFileSync(emptyEnvFile, '');
  }, 600_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  function composeConfig(env: Record<string, string>, extraFiles: string[] = [], args = ['-q']) {
    const { JWT_SECRET: _drop, POSTGRES_PASSWORD: _dropToo, ...inherited } = process.env;
    const files = ['docker-compose.yml', ...extraFiles].flatMap((f) => ['-f', join(repoRoot, f)]);
    return spawnSync('docker-compose', ['--env-file', emptyEnvFile, ...files, 'config', ...args], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { ...inherited, ...env },
    });
  }

  it('passes `docker-compose config -q` when JWT_SECRET and POSTGRES_PASSWORD are set', () => {
    const result = composeConfig(composeEnvForTests);

    // stderr rides along so a rejection shows docker-compose's reason.
    expect({ status: result.status, stderr: result.stderr }).toEqual({
      status: 0,
      stderr: expect.any(String),
    });
  });

  it('is refused without JWT_SECRET, naming the variable', () => {
    const result = composeConfig({ POSTGRES_PASSWORD: composeEnvForTests.POSTGRES_PASSWORD });

    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('JWT_SECRET');
  });

  it('is refused without POSTGRES_PASSWORD, naming the variable', () => {
    const result = composeConfig({ JWT_SECRET: composeEnvForTests.JWT_SECRET });

    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('POSTGRES_PASSWORD');
  });

  it('with docker/compose.mtls.yml, mounts in each Nest TCP role its own certificate directory only', () => {
    const result = composeConfig(
      { ...composeEnvForTests, PWD: resolve(repoRoot) },
      ['docker/compose.mtls.yml'],
      [],
    );
    expect(result.stderr).not.toMatch(/ERROR/);
    const services = parse(result.stdout).services as Record<string, any>;
    for (const role of ['exchange', 'generator', 'calculator', 'auth', 'transaction', 'psp', 'master']) {
      const tls = services[role].volumes.filter(
        (v: any) => (v.target ?? String(v).split(':')[1]) === '/app/tls',
      );
      expect({ role, tls: tls.map((v: any) => v.source ?? String(v).split(':')[0]) }).toEqual({
        role,
        tls: [join(repoRoot, 'certs', role)],
      });
      expect(services[role].environment).toMatchObject({
        RPC_TLS: 'mutual',
        RPC_TLS_KEY: '/app/tls/key.pem',
      });
    }
    expect(services.master.environment.MASTER_CHILD_TLS_DIR).toBe(join(repoRoot, 'certs', 'child'));
    expect(services['echo-server'].environment.RPC_TLS).toBeUndefined();
  });
});
