// docker-compose.yml is accepted by Debian's docker-compose (v1, the strictest schema CI has), and refuses to
// start without JWT_SECRET. No container engine is needed: `config` only validates and interpolates.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCommand } from '../harness/tools.js';
import { repoRoot } from './deploy-files.util.js';

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

  function composeConfig(env: Record<string, string>) {
    const { JWT_SECRET: _drop, ...inherited } = process.env;
    return spawnSync(
      'docker-compose',
      ['--env-file', emptyEnvFile, '-f', join(repoRoot, 'docker-compose.yml'), 'config', '-q'],
      { cwd: repoRoot, encoding: 'utf8', env: { ...inherited, ...env } },
    );
  }

  it('passes `docker-compose config -q` when JWT_SECRET is set', () => {
    const result = composeConfig({ JWT_SECRET: 'test-only-secret' });

    // stderr rides along so a rejection shows docker-compose's reason.
    expect({ status: result.status, stderr: result.stderr }).toEqual({
      status: 0,
      stderr: expect.any(String),
    });
  });

  it('is refused without JWT_SECRET, naming the variable', () => {
    const result = composeConfig({});

    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('JWT_SECRET');
  });
});
