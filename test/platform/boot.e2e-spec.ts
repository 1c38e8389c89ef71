// ROLE and configuration errors stop the process at boot with one clear message; a role opens only its listeners.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { boot, MAIN, ROOT, Topology } from '../harness/topology.js';
import { tempDir } from '../harness/temp-dir.js';

/** Like boot(), without blocking this process's event loop (a test server here must keep accepting). */
function bootAsync(
  env: Record<string, string>,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (c: Buffer) => (out.stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out.stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, ...out }));
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

describe('booting a role', () => {
  it('stops with exit 1 and lists the valid roles for an unknown ROLE', () => {
    const res = boot({ ROLE: 'exchange,bogus' });
    expect(res.status).toBe(1);
    expect(res.stderr).toContain('Unknown ROLE "bogus"');
    expect(res.stderr).toMatch(/valid roles: all, exchange, generator, echo-server/);
  });

  it('stops with exit 1 naming every offending variable at once', () => {
    const res = boot({ ROLE: 'generator', HTTP_PORT: 'abc', RPC_TIMEOUT_MS: '-1', EXCHANGE_ADDR: 'nowhere' });
    expect(res.status).toBe(1);
    expect(res.stderr).toContain('HTTP_PORT: must be an integer');
    expect(res.stderr).toContain('RPC_TIMEOUT_MS: must be >= 1');
    expect(res.stderr).toContain('EXCHANGE_ADDR: must be host:port');
  });

  it('reports a bad value from a config file with the variable it stands for', () => {
    const dir = tempDir('config');
    writeFileSync(join(dir, 'rates.yaml'), 'rates:\n  USD: -1\n');
    const res = boot({ ROLE: 'exchange', CONFIG_DIR: dir });
    expect(res.status).toBe(1);
    expect(res.stderr).toContain(
      'EXCHANGE_RATES (config/rates.yaml: rates): rate of USD must be a positive number',
    );
  });

  it('takes the environment over config/ files over built-in defaults', async () => {
    const dir = tempDir('config');
    writeFileSync(join(dir, 'rates.yaml'), 'rates:\n  EUR: 1\n  USD: 2\n');
    const fromFile = await Topology.start([{ role: 'exchange', env: { CONFIG_DIR: dir } }]);
    const fromEnv = await Topology.start([
      { role: 'exchange', env: { CONFIG_DIR: dir, EXCHANGE_RATES: 'EUR=1,USD=3' } },
    ]);
    const defaults = await Topology.start([
      { role: 'exchange', env: { CONFIG_DIR: tempDir('empty-config') } },
    ]);
    try {
      expect((await request(fromFile.get('exchange').url).get('/exchange/rates')).body).toEqual({
        EUR: 1,
        USD: 2,
      });
      expect((await request(fromEnv.get('exchange').url).get('/exchange/rates')).body).toEqual({
        EUR: 1,
        USD: 3,
      });
      expect((await request(defaults.get('exchange').url).get('/exchange/rates')).body).toMatchObject({
        TL: 17.89,
      });
    } finally {
      await Promise.all([fromFile.stop(), fromEnv.stop(), defaults.stop()]);
    }
  });

  it('opens only the listeners of its role', async () => {
    const topo = await Topology.start([{ role: 'exchange' }, { role: 'generator' }]);
    try {
      expect(await canConnect(topo.get('exchange').tcpPort)).toBe(true);
      expect(await canConnect(topo.get('generator').tcpPort)).toBe(false);
      expect(await canConnect(topo.get('generator').httpPort)).toBe(true);
    } finally {
      await topo.stop();
    }
  });

  describe('policies on settings', () => {
    const production = { NODE_ENV: 'production', RPC_TIMEOUT_MS: '-1' };
    const expectPolicyStop = (res: { status: number | null; stdout: string; stderr: string }) => {
      expect(res.status).toBe(1);
      // Reported with the other bad variables, in the one configuration message, before any log line.
      expect(res.stderr).toContain('Invalid configuration:');
      expect(res.stderr).toContain('JWT_SECRET is required when NODE_ENV=production (at least 32 bytes)');
      expect(res.stderr).toContain('RPC_TIMEOUT_MS: must be >= 1');
      expect(res.stdout).toBe('');
    };

    it('stops a production role that serves or calls Nest TCP without mutual TLS, naming the insecure setting', () => {
      for (const role of ['exchange', 'generator']) {
        const res = boot({ ROLE: role, NODE_ENV: 'production' });
        expect(res.status).toBe(1);
        expect(res.stderr).toContain(
          'RPC_TLS=mutual is required with NODE_ENV=production for a role that serves or calls Nest TCP (RPC_TLS is off)',
        );
        expect(res.stderr).toContain('or RPC_INSECURE_PLAINTEXT=true to accept callers nobody authenticates');
      }
    });

    it('starts it on plain TCP when RPC_INSECURE_PLAINTEXT=true says so, with a warning line', async () => {
      const topo = await Topology.start([
        { role: 'exchange', env: { NODE_ENV: 'production', RPC_INSECURE_PLAINTEXT: 'true' } },
        // No Nest TCP at all: nothing to authenticate, nothing to warn about.
        { role: 'echo-server', env: { NODE_ENV: 'production', RPC_INSECURE_PLAINTEXT: 'false' } },
      ]);
      try {
        expect(await canConnect(topo.get('exchange').tcpPort)).toBe(true);
        expect(topo.get('exchange').logs()).toContainEqual(
          expect.objectContaining({
            level: 'warn',
            setting: 'RPC_INSECURE_PLAINTEXT',
            msg: expect.stringMatching(
              /^INSECURE: RPC_INSECURE_PLAINTEXT=true: Nest TCP runs without mutual TLS/,
            ),
          }),
        );
        expect(
          topo
            .get('echo-server')
            .logs()
            .filter((l) => l.level === 'warn'),
        ).toEqual([]);
      } finally {
        await topo.stop();
      }
    });

    it('stops production without JWT_SECRET before an embedded PostgreSQL is started', async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'policy-data-'));
      try {
        expectPolicyStop(await bootAsync({ ...production, ROLE: 'auth', DATA_DIR: dataDir }));
        expect(existsSync(join(dataDir, 'postgres'))).toBe(false);
        expect(readdirSync(dataDir)).toEqual([]);
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });

    it('stops production without JWT_SECRET before any database connection, migration or child', async () => {
      let attempts = 0;
      const database = createServer((socket) => {
        attempts++;
        socket.destroy();
      });
      await new Promise<void>((resolve) => database.listen(0, '127.0.0.1', resolve));
      const { port } = database.address() as AddressInfo;
      try {
        const res = await bootAsync({
          ...production,
          ROLE: 'all',
          DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/policy`,
        });
        expectPolicyStop(res);
        expect(attempts).toBe(0);
      } finally {
        await new Promise((resolve) => database.close(resolve));
      }
    });
  });
});
