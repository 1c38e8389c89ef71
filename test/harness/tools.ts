// Host tools the suites drive for real (nc, docker-compose, openssl): run them, and install the Debian package
// that provides one when it is missing and the run is root (CI, these machines).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; a non-zero exit is a result, not an error. */
export function runCommand(file: string, args: string[], cwd?: string): Promise<CommandResult> {
  return exec(file, args, { cwd }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({
      code: typeof err.code === 'number' ? err.code : -1,
      stdout: err.stdout ?? '',
      stderr: err.stderr ?? String(err),
    }),
  );
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
