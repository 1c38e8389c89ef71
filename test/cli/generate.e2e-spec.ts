// What the README's `nest generate` commands write passes the project's own checks as written: lint (ESLint and
// Prettier), the type check, and the generated specs under Jest. They run in a copy of the project's sources, so a
// failure leaves the checkout untouched. (tsconfig.json itself has noEmit: the type check writes nothing.)
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand, type CommandResult } from '../harness/tools.js';
import { ROOT } from '../harness/topology.js';

// Inside the checkout (in a git-ignored folder), so the copy resolves the project's packages by walking up.
const work = join(ROOT, 'test-results/nest-generate');
const bin = (pkg: string, path: string) => join(ROOT, 'node_modules', pkg, path);

function run(file: string, args: string[]): Promise<CommandResult> {
  return runCommand(process.execPath, [file, ...args], {
    cwd: work,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    timeoutMs: 240_000,
  });
}

/** The README's commands, word for word after `npx`. */
const README_COMMANDS = [
  ['generate', 'module', 'widgets'],
  ['generate', 'service', 'widgets'],
  ['generate', 'controller', 'widgets'],
];

describe('nest generate, as the README runs it', () => {
  const generated = join(work, 'src/modules/widgets');

  beforeAll(async () => {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    for (const f of [
      'nest-cli.json',
      'package.json',
      '.prettierrc',
      '.swcrc',
      'eslint.config.js',
      'tsconfig.json',
      'jest.config.js',
    ])
      cpSync(join(ROOT, f), join(work, f));
    // The sources and what the project's lint and format scripts cover.
    for (const dir of ['src', 'test', 'bench', 'docker'])
      cpSync(join(ROOT, dir), join(work, dir), { recursive: true });
    for (const args of README_COMMANDS) {
      const result = await run(bin('@nestjs/cli', 'bin/nest.js'), args);
      expect({ args, ...result }).toMatchObject({ args, code: 0 });
    }
    // The schematics write their own layout (no trailing comma where a provider is added to the module); the
    // README runs the project's formatter after them. (Their --format resolves no .prettierrc for the paths of
    // its virtual tree, so it would write Prettier's defaults instead.)
    const format = await runCommand('npm', ['run', 'format', '--silent'], { cwd: work, timeoutMs: 240_000 });
    expect(format).toMatchObject({ code: 0 });
  }, 300_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('writes the module, the service and the controller, each class with its spec (the module has none)', () => {
    expect(readdirSync(generated).sort()).toEqual([
      'widgets.controller.spec.ts',
      'widgets.controller.ts',
      'widgets.module.ts',
      'widgets.service.spec.ts',
      'widgets.service.ts',
    ]);
  });

  it('passes ESLint and Prettier', async () => {
    const eslint = await run(bin('eslint', 'bin/eslint.js'), ['src/modules/widgets']);
    expect(eslint).toMatchObject({ code: 0 });
    const prettier = await run(bin('prettier', 'bin/prettier.cjs'), ['--check', 'src/modules/widgets']);
    expect({ ...prettier, stdout: prettier.stdout.split('\n') }).toMatchObject({ code: 0 });
  }, 240_000);

  it("type-checks under the project's compiler options", async () => {
    // The generated files and what they import, not the whole project (whose own type check is not this spec's).
    writeFileSync(
      join(work, 'tsconfig.generated.json'),
      JSON.stringify({ extends: './tsconfig.json', include: ['src/modules/widgets'] }),
    );
    const tsc = await run(bin('typescript', 'bin/tsc'), ['-p', 'tsconfig.generated.json']);
    expect(tsc).toMatchObject({ code: 0, stdout: '' });
  }, 240_000);

  it('passes its generated specs under Jest (so npm test stays green)', async () => {
    // The project's Jest settings without the global setup, which starts a PostgreSQL these specs do not use.
    writeFileSync(
      join(work, 'jest.generated.config.js'),
      `import base from './jest.config.js';\n` +
        `const { globalSetup, globalTeardown, ...rest } = base;\n` +
        `export default { ...rest, testMatch: ['<rootDir>/src/modules/widgets/**/*.spec.ts'] };\n`,
    );
    const jest = await runCommand(
      process.execPath,
      [
        '--experimental-vm-modules',
        bin('jest', 'bin/jest.js'),
        '--config',
        'jest.generated.config.js',
        '--ci',
        // Jest's cache would go to the run's temporary directory, which is checked for leftovers: keep it in the copy.
        '--cacheDirectory',
        join(work, '.jest-cache'),
      ],
      { cwd: work, env: { ...process.env, NO_COLOR: '1' }, timeoutMs: 240_000 },
    );
    expect(jest).toMatchObject({
      code: 0,
      stderr: expect.stringContaining('Tests:       2 passed, 2 total'),
    });
  }, 240_000);

  it('leaves the checkout alone', () => {
    expect(existsSync(join(ROOT, 'src/modules/widgets'))).toBe(false);
  });
});
