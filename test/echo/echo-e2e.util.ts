// Helpers for the echo e2e suites: host tools the suites drive (nc, docker-compose), and echo-client job processes.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Topology, type RoleProcess } from '../harness/topology.js';

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

/** The job process and the topology that owns it (stop the topology to clean up). */
export interface JobRun {
  topology: Topology;
  job: RoleProcess;
}

/**
 * Starts an echo-client job as its own process. The harness wires <ROLE>_ADDR to Nest TCP ports, which the echo
 * client does not use, so callers pass the echo address themselves (CLI_SERVER_ADDRESS, ECHO_SERVER_ADDR or file).
 */
export async function startEchoClient(env: Record<string, string>, databaseUrl: string): Promise<JobRun> {
  const topology = await Topology.start([{ role: 'echo-client', env, waitFor: 'none' }], { databaseUrl });
  return { topology, job: topology.get('echo-client') };
}

/** Messages of the job's JSON log lines, in order. */
export function messages(p: RoleProcess): string[] {
  return p.logs().flatMap((l) => (typeof l.msg === 'string' ? [l.msg] : []));
}
