// docker/compose-clients.mjs, run as a user would. When docker-compose (Debian's package) is installed, its output
// is also checked with `docker-compose config -q` against a minimal base file standing in for docker-compose.yml.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';

const run = promisify(execFile);
const SCRIPT = resolve('docker/compose-clients.mjs');

const baseCompose = {
  withEchoServer: [
    'services:',
    '  echo-server:',
    '    image: polyrole:latest',
    '    environment:',
    '      ROLE: echo-server',
    '    healthcheck:',
    '      test: ["CMD", "node", "-e", "process.exit(0)"]',
    '',
  ].join('\n'),
  withoutEchoServer: 'services:\n  exchange:\n    image: polyrole:latest\n',
};

interface ClientService {
  image: string;
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

const hasDockerCompose = (): Promise<boolean> =>
  run('sh', ['-c', 'command -v docker-compose']).then(
    () => true,
    () => false,
  );

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
    });
  });

  it('prints to stdout with -o - and honours --network and --image', async () => {
    const result = await generate('2', '-o', '-', '--network', 'testing_net', '--image', 'polyrole:dev');
    const services = parseYaml(result.stdout).services as Record<
      string,
      ClientService & { networks: string[] }
    >;
    expect(services['echo-client-2']).toMatchObject({ image: 'polyrole:dev', networks: ['testing_net'] });
  });

  it.each(['0', '-3', 'many', ''])('refuses %j as the number of clients with exit 2', async (count) => {
    const result = await generate(...(count ? [count] : []), '-o', '-');
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^compose-clients: .*\nusage:/);
  });

  it('passes `docker-compose config -q` beside a base file and fails it without echo-server (if installed)', async () => {
    // Only where Debian's docker-compose is installed (it is not a project dependency); the YAML checks above run
    // everywhere.
    if (!(await hasDockerCompose())) return;
    const override = join(dir, 'clients.yml');
    await generate('5', '-o', override);
    const config = (base: string) => {
      writeFileSync(join(dir, 'docker-compose.yml'), base);
      return run('docker-compose', ['-f', 'docker-compose.yml', '-f', 'clients.yml', 'config', '-q'], {
        cwd: dir,
      }).then(
        () => 0,
        (err: { code: number }) => err.code,
      );
    };
    expect(await config(baseCompose.withEchoServer)).toBe(0);
    expect(await config(baseCompose.withoutEchoServer)).not.toBe(0);
  });
});
