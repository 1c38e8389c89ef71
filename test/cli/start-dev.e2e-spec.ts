// `npm run start:dev` on a terminal keeps what it printed before: TypeScript's watch mode clears the screen (and
// with it the scrollback) at every compilation unless told to preserve it. Run under a pseudo-terminal (`script`),
// as a developer's shell runs it, beside nothing else: a role of its own on free ports.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../harness/ports.js';
import { ensureCommand } from '../harness/tools.js';
import { ROOT } from '../harness/topology.js';
import { waitFor } from '../harness/wait-for.js';

/** What terminals take as "clear the screen": a full reset, erase display, erase scrollback. */
// eslint-disable-next-line no-control-regex -- the escapes are what this checks for
const CLEAR = /\x1bc|\x1b\[2J|\x1b\[3J/;

describe('npm run start:dev', () => {
  beforeAll(() => ensureCommand('script', 'bsdutils'));

  it('compiles in watch mode into dist-dev/, boots the role and never clears the terminal', async () => {
    // The build `npm run build` made (the bundle every other suite boots) stays as it was.
    const bundle = readFileSync(join(ROOT, 'dist/main.js'), 'utf8');
    const [httpPort, tcpPort] = [await freePort(), await freePort()];
    const dev = spawn('script', ['-qfec', 'npm run start:dev', '/dev/null'], {
      cwd: ROOT,
      // A developer's shell: NODE_ENV as a terminal has it, not Jest's `test`.
      env: {
        ...process.env,
        NODE_ENV: 'development',
        ROLE: 'exchange',
        HTTP_PORT: String(httpPort),
        TCP_PORT: String(tcpPort),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    dev.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    dev.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    const exited = new Promise((done) => dev.once('close', done));
    const step = async (what: string, done: () => boolean, limitMs: number) => {
      await waitFor(() => done() || dev.exitCode !== null, what, limitMs).catch(() => undefined);
      if (!done()) throw new Error(`no ${what} (exit ${dev.exitCode})\n--- output\n${output.slice(-4000)}`);
    };
    try {
      await step('first compilation', () => /Found 0 errors/.test(output), 180_000);
      // The role's boot line (pino-pretty on a terminal: "<role> boot: ready") comes once it listens.
      await step('ready role', () => /boot: ready/.test(output.split(/Found 0 errors/)[1] ?? ''), 60_000);
      const live = await fetch(`http://127.0.0.1:${httpPort}/health/live`).then(
        (res) => res.status,
        (err: Error) => `${err.message}\n--- output\n${output.slice(-4000)}`,
      );
      expect({ live, clears: CLEAR.test(output) }).toEqual({ live: 200, clears: false });
      expect(readFileSync(join(ROOT, 'dist-dev/main.js'), 'utf8')).toContain('bootstrap');
      expect(readFileSync(join(ROOT, 'dist/main.js'), 'utf8') === bundle).toBe(true);
    } finally {
      // The whole group: script, npm, the Nest CLI and the role it started.
      try {
        process.kill(-dev.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
      await exited;
    }
  }, 300_000);
});
