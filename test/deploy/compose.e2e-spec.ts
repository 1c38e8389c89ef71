// docker-compose.yml is accepted by Debian's docker-compose (v1, the strictest schema CI has), and refuses to
// start without JWT_SECRET. No container engine is needed: `config` only validates and interpolates.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

  it('runs every Nest TCP role under mutual TLS with its own certificate volume, made by the certs job', () => {
    const result = composeConfig(composeEnvForTests, [], []);
    expect(result.stderr).not.toMatch(/ERROR/);
    const config = parse(result.stdout) as { services: Record<string, any>; volumes: Record<string, any> };
    const { services } = config;
    const sourceAt = (service: any, target: string) =>
      service.volumes
        .filter((v: any) => (v.target ?? String(v).split(':')[1]) === target)
        .map((v: any) => v.source ?? String(v).split(':')[0]);
    const nestTcpRoles = ['exchange', 'generator', 'calculator', 'auth', 'transaction', 'psp', 'master'];
    for (const role of nestTcpRoles) {
      expect({ role, tls: sourceAt(services[role], '/app/tls') }).toEqual({ role, tls: [`tls-${role}`] });
      expect(services[role].environment).toMatchObject({
        RPC_TLS: 'mutual',
        RPC_TLS_CA: '/app/tls/ca.pem',
        RPC_TLS_CERT: '/app/tls/cert.pem',
        RPC_TLS_KEY: '/app/tls/key.pem',
      });
      expect(services[role].depends_on.certs).toEqual({ condition: 'service_completed_successfully' });
      // The CA's key is the certs job's alone.
      expect(sourceAt(services[role], '/certs/ca')).toEqual([]);
    }
    // The job writes each role's volume where the role reads it, and keeps the CA in a volume no role mounts.
    for (const role of [...nestTcpRoles, 'child', 'ca'])
      expect(sourceAt(services.certs, `/certs/${role}`)).toEqual([`tls-${role}`]);
    expect(services.certs.command).toEqual(['node', 'dist/roles/certs/certs.main.js', '/certs']);
    const mounting = Object.entries(services).filter(([, s]: [string, any]) =>
      (s.volumes ?? []).some((v: any) => (v.source ?? String(v).split(':')[0]) === 'tls-ca'),
    );
    expect(mounting.map(([name]) => name)).toEqual(['certs']);
    // Children get the children's volume from the Engine, by its fixed name.
    expect(services.master.environment.MASTER_CHILD_TLS_DIR).toBe(config.volumes['tls-child'].name);
    expect(services['echo-server'].environment.RPC_TLS).toBeUndefined();
  });

  it("trusts X-Forwarded-For from the gateway's pinned address only", () => {
    const { services } = parse(composeConfig(composeEnvForTests, [], []).stdout);
    const gatewayIp = services.gateway.networks.polyrole.ipv4_address;
    expect(gatewayIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(services.auth.environment.TRUSTED_PROXIES).toBe(gatewayIp);
  });
});
