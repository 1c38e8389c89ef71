// Helpers for the echo e2e suites: echo-client job processes (host tools live in test/harness/tools.ts).
import { Topology, type RoleProcess } from '../harness/topology.js';

export { ensureCommand, runCommand, type CommandResult } from '../harness/tools.js';

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
