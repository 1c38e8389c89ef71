// The container engine the container suite drives: the first Docker-compatible API that answers (DOCKER_HOST,
// podman's rootful socket, Docker's), its CLI (podman or docker) and the environment every command gets.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  dockerEndpoint,
  type HttpCall,
  type HttpEndpoint,
  httpRequest,
  type HttpResult,
} from '../../src/modules/master-child/spawners/http.util.js';
import { runCommand, type CommandResult, type RunOptions } from '../harness/tools.js';
import { ROOT } from '../harness/topology.js';

export type { CommandResult, RunOptions };

export const PODMAN_SOCKET = 'unix:///run/podman/podman.sock';
const DOCKER_SOCKET = 'unix:///var/run/docker.sock';
/** The repository's podman settings for hosts without systemd (docker/containers.conf). */
export const REPO_CONTAINERS_CONF = join(ROOT, 'docker', 'containers.conf');

/** Every command runs in the repository root unless told otherwise. */
export function run(file: string, args: string[], opts: RunOptions = {}): Promise<CommandResult> {
  return runCommand(file, args, { cwd: ROOT, ...opts });
}

export class Engine {
  private readonly endpoint: HttpEndpoint;

  constructor(
    readonly kind: 'podman' | 'docker',
    /** unix:///... as DOCKER_HOST spells it. */
    readonly host: string,
    readonly env: NodeJS.ProcessEnv,
  ) {
    this.endpoint = dockerEndpoint(host);
  }

  /** The CLI of the engine: podman for podman (healthchecks, import, build), docker for Docker. */
  get cli(): string {
    return this.kind;
  }

  get socketPath(): string {
    return this.endpoint.socketPath ?? '';
  }

  /** The engine's CLI with the suite's environment. */
  run(args: string[], opts: RunOptions = {}): Promise<CommandResult> {
    return run(this.cli, args, { env: this.env, ...opts });
  }

  /** The Docker-compatible API, as docker-compose and the master's spawner use it. */
  api(call: HttpCall): Promise<HttpResult> {
    return httpRequest(this.endpoint, call);
  }

  async imagePresent(image: string): Promise<boolean> {
    return (await this.run(['image', 'inspect', image], { timeoutMs: 60_000 })).code === 0;
  }
}

async function ping(host: string): Promise<'podman' | 'docker' | undefined> {
  try {
    const endpoint = dockerEndpoint(host);
    if (endpoint.socketPath && !existsSync(endpoint.socketPath)) return undefined;
    const res = await httpRequest(endpoint, { method: 'GET', path: '/_ping', timeoutMs: 3000 });
    if (res.status !== 200) return undefined;
    return res.headers['libpod-api-version'] ? 'podman' : 'docker';
  } catch {
    return undefined;
  }
}

/** The first engine that answers, or undefined when none does. */
export async function findEngine(): Promise<Engine | undefined> {
  const candidates = [process.env.DOCKER_HOST, PODMAN_SOCKET, DOCKER_SOCKET].filter(
    (h): h is string => !!h && h.startsWith('unix://'),
  );
  for (const host of candidates) {
    const kind = await ping(host);
    if (!kind) continue;
    const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: host };
    // podman on these hosts needs the repository's settings unless the machine has its own.
    if (kind === 'podman' && !env.CONTAINERS_CONF && !existsSync('/etc/containers/containers.conf')) {
      env.CONTAINERS_CONF = REPO_CONTAINERS_CONF;
    }
    return new Engine(kind, host, env);
  }
  return undefined;
}
