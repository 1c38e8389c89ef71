// The README's and docs/'s shell examples run as written against a started ROLE=all (one fresh process and
// database per page, the page's blocks in order in one bash, as a reader pastes them), and the outputs they show
// are checked: a doc that drifts from the code fails here. Ports the docs name (3000, 4000, 12345, 50051, and the
// extra roles' 3001, 4001, ...) are rewritten to free ones. Conventions: test/docs/doc-examples.ts.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../harness/ports.js';
import { tempDir } from '../harness/temp-dir.js';
import { ensureCommand } from '../harness/tools.js';
import { ROOT, Topology } from '../harness/topology.js';
import { outputMismatch, shellBlocks, type DocBlock, type DocCommand } from './doc-examples.js';

const PAGES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const blocks = PAGES.flatMap((page) => shellBlocks(page, readFileSync(join(ROOT, page), 'utf8')));
const runnablePages = PAGES.filter((page) => blocks.some((b) => b.page === page && b.runnable));

/** The role's own listeners, and ports the docs give to roles they start beside it. */
const ROLE_PORTS = { http: '3000', tcp: '4000', echo: '12345', grpc: '50051' } as const;
const EXTRA_PORTS = /(?<=[:=])(30\d\d|40\d\d)\b/g;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a page's commands in one bash, each one's output captured apart; the whole process group ends with it. */
async function runPage(commands: DocCommand[], env: Record<string, string>, dir: string): Promise<Ran[]> {
  const script = [
    // Roles a page starts in the background end with it, gracefully.
    `trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT`,
    ...commands.map(
      (c, i) => `{\n${c.text}\n} >"${dir}/${i}.out" 2>"${dir}/${i}.err"\necho $? >"${dir}/${i}.code"`,
    ),
  ].join('\n');
  writeFileSync(join(dir, 'page.sh'), script);
  const bash = spawn('bash', [join(dir, 'page.sh')], { cwd: ROOT, env, stdio: 'ignore', detached: true });
  const limit = setTimeout(() => process.kill(-bash.pid!, 'SIGKILL'), 180_000);
  await new Promise((done) => bash.once('close', done));
  clearTimeout(limit);
  try {
    process.kill(-bash.pid!, 'SIGKILL');
  } catch {
    // every process of the page has ended
  }
  const read = (name: string) => {
    try {
      return readFileSync(join(dir, name), 'utf8');
    } catch {
      return '';
    }
  };
  return commands.map((_, i) => ({
    code: Number(read(`${i}.code`).trim() || -1),
    stdout: read(`${i}.out`),
    stderr: read(`${i}.err`),
  }));
}

const summary = { pages: 0, commands: 0, checked: 0 };

beforeAll(async () => {
  await ensureCommand('curl', 'curl');
  await ensureCommand('nc', 'netcat-openbsd');
  await ensureCommand('jq', 'jq');
});

afterAll(() => {
  const shownOnly = blocks.filter((b) => !b.runnable);
  console.log(
    `docs examples: ${summary.commands} commands run on ${summary.pages} pages, ${summary.checked} shown outputs ` +
      `checked; ${shownOnly.length} blocks marked no-test:\n` +
      shownOnly.map((b) => `  ${b.page}:${b.line}`).join('\n'),
  );
});

describe('the docs examples', () => {
  it('mark every shell block either sh (run here) or sh no-test (shown only)', () => {
    const other = blocks.filter((b) => b.info !== 'sh' && b.info !== 'sh no-test');
    expect(other.map((b) => `${b.page}:${b.line} ${b.info}`)).toEqual([]);
  });

  it('show outputs for a good share of what they run (the checks below are not vacuous)', () => {
    const run = blocks.filter((b) => b.runnable).flatMap((b) => b.commands);
    expect(run.filter((c) => c.expected !== undefined).length).toBeGreaterThan(40);
    expect(runnablePages).toEqual(
      expect.arrayContaining(['README.md', 'docs/payments.md', 'docs/calculator.md']),
    );
  });

  describe.each(runnablePages)('%s', (page) => {
    const pageBlocks: DocBlock[] = blocks.filter((b) => b.page === page && b.runnable);
    const commands = pageBlocks.flatMap((b) => b.commands);
    let topology: Topology;
    let results: Ran[] = [];
    let ports: Map<string, string>;

    const rewrite = (text: string) =>
      text
        .replace(/(?<=[:=\s])(3000|4000|12345|50051)\b/g, (p) => ports.get(p)!)
        .replace(EXTRA_PORTS, (p) => ports.get(p) ?? p);

    beforeAll(async () => {
      topology = await Topology.start([{ name: 'all', role: 'all' }], { readyTimeoutMs: 60_000 });
      const role = topology.get('all');
      ports = new Map([
        [ROLE_PORTS.http, String(role.httpPort)],
        [ROLE_PORTS.tcp, String(role.tcpPort)],
        [ROLE_PORTS.echo, String(role.echoPort)],
        [ROLE_PORTS.grpc, role.env.GRPC_PORT],
      ]);
      for (const c of commands)
        for (const [p] of c.text.matchAll(EXTRA_PORTS))
          if (!ports.has(p)) ports.set(p, String(await freePort()));
      results = await runPage(
        commands.map((c) => ({ ...c, text: rewrite(c.text) })),
        {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '/tmp',
          ...(process.env.TMPDIR ? { TMPDIR: process.env.TMPDIR } : {}),
          // Roles a page starts itself use the page's database, never an embedded server of their own.
          DATABASE_URL: topology.databaseUrl,
          NODE_ENV: 'test',
        },
        tempDir('docs'),
      );
      summary.pages += 1;
      summary.commands += commands.length;
    }, 240_000);

    afterAll(async () => {
      await topology?.stop();
    });

    it.each(commands.map((c, i) => [`${page}:${c.line} ${c.text.split('\n')[0]}`, i] as const))(
      '%s',
      (_name, i) => {
        const command = commands[i];
        const ran = results[i];
        const shown = command.expected === undefined ? undefined : rewrite(command.expected);
        const problem =
          ran.code !== 0
            ? `exit code ${ran.code}`
            : shown === undefined
              ? undefined
              : outputMismatch(shown, ran.stdout);
        if (shown !== undefined) summary.checked += 1;
        if (problem) {
          throw new Error(
            `${page}:${command.line}: ${problem}\n$ ${command.text}\n--- shown\n${shown ?? '(nothing)'}\n` +
              `--- printed\n${ran.stdout}\n--- stderr\n${ran.stderr}`,
          );
        }
      },
    );
  });
});
