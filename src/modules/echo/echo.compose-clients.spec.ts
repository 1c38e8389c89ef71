// docker/compose-clients.mjs, run as a user would, and its output checked by `docker-compose config` beside the repo's
// docker-compose.yml (Debian's docker-compose is installed first when missing, so the check never passes silently).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { ensureCommand, runCommand } from '../../../test/harness/tools.js';

const run = promisify(execFile);
const SCRIPT = resolve('docker/compose-clients.mjs');

/** Stands in for docker-compose.yml in the failing case: the polyrole network, but no echo-server to wait for. */
const baseWithoutEchoServer = [
  'services:',
  '  exchange:',
  '    image: polyrole:latest',
  '    networks: [polyrole]',
  'networks:',
  '  polyrole: {}',
  '',
].join('\n');

interface ClientService {
  image: string;
  networks: string[];
  environment: Record<string, string>;
  volumes: string[];
  depends_on: Record<string, { condition: string }>;
  restart: string;
}

async function generate(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run('node', [SCRIPT, ...args]).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({
      code: err.code,
      stdout: err.stdout,
      stderr: err.stderr,
    }),
  );
}

describe('docker/compose-clients.mjs', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'compose-clients-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes five echo-client services with ids 1 to 5', async () => {
    const output = join(dir, 'clients.yml');
    expect((await generate('clients', '5', '--output', output)).code).toBe(0);

    const services = parseYaml(readFileSync(output, 'utf8')).services as Record<string, ClientService>;
    expect(Object.keys(services)).toEqual([
      'echo-client-1',
      'echo-client-2',
      'echo-client-3',
      'echo-client-4',
      'echo-client-5',
    ]);
    Object.values(services).forEach((service, i) => {
      expect(service.environment).toEqual({ ROLE: 'echo-client', CLI_ID: String(i + 1) });
      expect(service.volumes).toEqual(['./config:/app/config:ro']);
      expect(service.depends_on).toEqual({ 'echo-server': { condition: 'service_healthy' } });
      expect(service.restart).toBe('no');
      expect(service.networks).toEqual(['polyrole']);
    });
  });

  it('prints to stdout with -o - and honours --network and --image', async () => {
    const result = await generate('2', '-o', '-', '--network', 'testing_net', '--image', 'polyrole:dev');
    const services = parseYaml(result.stdout).services as Record<string, ClientService>;
    expect(services['echo-client-2']).toMatchObject({ image: 'polyrole:dev', networks: ['testing_net'] });
  });

  it.each(['0', '-3', 'many', ''])('refuses %j as the number of clients with exit 2', async (count) => {
    const result = await generate(...(count ? [count] : []), '-o', '-');
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^compose-clients: .*\nusage:/);
  });

  describe('with docker-compose', () => {
    beforeAll(() => ensureCommand('docker-compose', 'docker-compose'), 300_000);

    /** `docker-compose config` over `files`, with an empty env file so a developer's .env cannot interfere. */
    const composeConfig = async (files: string[], ...args: string[]) => {
      writeFileSync(join(dir, 'empty.env'), '');
      const fileArgs = files.flatMap((f) => ['-f', f]);
      return runCommand(
        'env',
        [
          `JWT_SECRET=test-only`,
          `POSTGRES_PASSWORD=test-only`,
          'docker-compose',
          '--env-file',
          join(dir, 'empty.env'),
          ...fileArgs,
          'config',
          ...args,
        ],
        { cwd: dir },
      );
    };

    it("passes `docker-compose config -q` beside the repo's docker-compose.yml", async () => {
      const override = join(dir, 'clients.yml');
      await generate('5', '-o', override);
      expect(await composeConfig([resolve('docker-compose.yml'), override], '-q')).toMatchObject({
        code: 0,
        stderr: '',
      });
    });

    it('puts every client on the network where echo-server is', async () => {
      const override = join(dir, 'clients.yml');
      await generate('3', '-o', override);
      const merged = await composeConfig([resolve('docker-compose.yml'), override]);
      expect(merged.code).toBe(0);
      const services = parseYaml(merged.stdout).services as Record<string, { networks?: unknown }>;
      const networks = (name: string) => {
        const n = services[name].networks ?? {};
        return Array.isArray(n) ? n : Object.keys(n as object);
      };
      expect(networks('echo-server')).toContain('polyrole');
      for (const id of [1, 2, 3]) expect(networks(`echo-client-${id}`)).toEqual(['polyrole']);
    });

    it('fails `docker-compose config -q` when the base file has no echo-server', async () => {
      writeFileSync(join(dir, 'docker-compose.yml'), baseWithoutEchoServer);
      await generate('5', '-o', join(dir, 'clients.yml'));
      const broken = await composeConfig(['docker-compose.yml', 'clients.yml'], '-q');
      expect(broken.code).not.toBe(0);
      expect(broken.stderr).toMatch(/echo-server/);
    });
  });
});
