// The Nest CLI works on this ESM + tsc layout (nest-cli.json): `nest build` emits a main.js that boots, with the
// non-TypeScript assets beside it, and `nest generate` writes into src/modules.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import request from 'supertest';
import { freePort } from '../harness/ports.js';
import { ROOT } from '../harness/topology.js';

const NEST = join(ROOT, 'node_modules/@nestjs/cli/bin/nest.js');

function nest(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [NEST, ...args], { cwd: ROOT, env: process.env });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', reject);
    // eslint-disable-next-line no-control-regex -- the CLI colours its lines even on a pipe
    child.on('close', (code) => resolve({ code, output: output.replace(/\x1b\[[0-9;]*m/g, '') }));
  });
}

describe('the Nest CLI on this layout', () => {
  // Inside node_modules so the emitted ESM resolves the project's packages like dist/ does; never dist/ itself,
  // which the other suites run.
  const work = join(ROOT, 'node_modules/.cache/polyrole-nest-build');
  const outDir = join(work, 'dist');

  beforeAll(() => {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    writeFileSync(
      join(work, 'tsconfig.json'),
      JSON.stringify({ extends: join(ROOT, 'tsconfig.build.json'), compilerOptions: { outDir } }),
    );
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('nest build emits a main.js that boots a role, with the .proto assets copied beside the code', async () => {
    // The CLI takes the tsconfig path relative to the workspace.
    const build = await nest(['build', '-p', relative(ROOT, join(work, 'tsconfig.json'))]);
    expect(build).toEqual({ code: 0, output: expect.any(String) });
    expect(existsSync(join(outDir, 'modules/calculator/proto/math_helper.proto'))).toBe(true);

    const [httpPort, tcpPort] = [await freePort(), await freePort()];
    const role = spawn(process.execPath, [join(outDir, 'main.js')], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        ROLE: 'exchange',
        HTTP_PORT: String(httpPort),
        TCP_PORT: String(tcpPort),
      },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => role.once('exit', resolve));
    try {
      const url = `http://127.0.0.1:${httpPort}`;
      for (const deadline = Date.now() + 30_000; ;) {
        const res = await fetch(`${url}/health/ready`).catch(() => undefined);
        if (res?.ok) break;
        if (Date.now() > deadline) throw new Error('the role built by nest build was not ready in 30 s');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const res = await request(url)
        .get('/exchange')
        .query({ amount: 100, from: 'USD', to: 'GBP' })
        .expect(200);
      expect(res.body).toMatchObject({ result: 80.19 });
    } finally {
      role.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('nest generate puts a module, its service and its controller under src/modules/<name>', async () => {
    const dryRun = async (schematic: string) =>
      (await nest(['generate', schematic, 'probe', '--dry-run'])).output;
    expect(await dryRun('module')).toContain('CREATE src/modules/probe/probe.module.ts');
    expect(await dryRun('service')).toContain('CREATE src/modules/probe/probe.service.ts');
    expect(await dryRun('controller')).toContain('CREATE src/modules/probe/probe.controller.ts');
  });
});
