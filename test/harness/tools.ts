// Host tools the suites drive for real (nc, docker-compose, openssl): run them, and install the Debian package
// that provides one when it is missing and the run is root (CI, these machines).
import { spawn } from 'node:child_process';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Killed after this long (default 10 minutes); the result then says so in stderr. */
  timeoutMs?: number;
  /** Written to the command's stdin, which is then closed. */
  input?: string;
}

/** Runs a command to completion (bounded); a non-zero exit is a result, not an error. Output may be large. */
export function runCommand(file: string, args: string[], opts: RunOptions = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd: opts.cwd, env: opts.env, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${opts.timeoutMs} ms]`;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 600_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout, stderr: stderr + String(err) });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    // A command that never reads its input may exit first: the write then fails with EPIPE, which says nothing.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/**
 * Makes sure `command` is on PATH: installs the Debian package that provides it when running as root (CI, these
 * machines), and fails with the install command otherwise, so a suite never passes without the tool it tests.
 */
export async function ensureCommand(command: string, debianPackage: string): Promise<void> {
  const present = async () => (await runCommand('sh', ['-c', `command -v ${command}`])).code === 0;
  if (await present()) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`${command} is missing and this is not root: apt-get install -y ${debianPackage}`);
  }
  const aptGet = (...args: string[]) =>
    runCommand('env', ['DEBIAN_FRONTEND=noninteractive', 'apt-get', '-qq', ...args]);
  let install = await aptGet('install', '-y', '--no-install-recommends', debianPackage);
  if (install.code !== 0) {
    // A fresh machine may have no package lists yet.
    await aptGet('update');
    install = await aptGet('install', '-y', '--no-install-recommends', debianPackage);
  }
  if (install.code !== 0 || !(await present())) {
    throw new Error(`could not install ${debianPackage} for ${command}:\n${install.stderr}`);
  }
}
