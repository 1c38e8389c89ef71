// The one interface behind which a master starts children (local process, Docker container, Kubernetes Job),
// and what every spawner shares: the child's environment, the spawn error and a bounded stderr tail.
import { AppError } from '../../../platform/errors/app-error.js';
import type { HostPort } from '../../../platform/config/parsers.js';
import type { SpawnerKind } from '../master.settings.js';

/** What to start: an id (unique per master) and the child's environment, ROLE excluded. */
export interface ChildSpec {
  id: string;
  env: Record<string, string>;
}

/**
 * How a child ended. `exitCode` follows the shell convention: 128 + signal number for a child killed by a signal
 * (137 for SIGKILL), as Docker and Kubernetes report it; null when it is unknown, with `error` saying why.
 */
export interface ChildExit {
  exitCode: number | null;
  signal?: string;
  error?: string;
}

export interface ChildHandle {
  readonly id: string;
  /** The platform's name for it: a pid, a container id, a Job name. */
  readonly ref: string;
  /** Resolves when the child has ended; never rejects (a lost child resolves with `error`). */
  wait(): Promise<ChildExit>;
  /**
   * Asks the child to stop (it reports what it has) and kills it after the grace period. Resolves once it has
   * ended, or once its platform has accepted to remove it.
   */
  stop(): Promise<void>;
  /** The last bytes the child wrote to stderr, as text. */
  stderrTail(): string;
}

export interface ChildSpawner {
  readonly kind: SpawnerKind;
  /** Starts a child; rejects with a SpawnError when it could not be started. */
  spawn(spec: ChildSpec): Promise<ChildHandle>;
}

/** A child that could not be started, with a message fit for the child's status. */
export class SpawnError extends AppError {
  constructor(message: string, code = 'spawn_failed') {
    super(502, code, message);
    this.name = 'SpawnError';
  }
}

/** What a child needs to know, turned into its environment (see childSettings). */
export interface ChildLaunch {
  id: string;
  /** Proves the child's id in its reports (CHILD_SECRET); only this master and the child know it. */
  secret: string;
  min: number;
  max: number;
  count: number;
  masterAddr: HostPort;
  seed?: string;
  batchSize?: number;
  /** W3C traceparent of the spawn: the child's reports join the trace of the request that created it. */
  traceparent?: string;
}

export function childEnvOf(launch: ChildLaunch): Record<string, string> {
  const host = launch.masterAddr.host.includes(':') ? `[${launch.masterAddr.host}]` : launch.masterAddr.host;
  return {
    CHILD_ID: launch.id,
    CHILD_SECRET: launch.secret,
    CHILD_MIN: String(launch.min),
    CHILD_MAX: String(launch.max),
    CHILD_COUNT: String(launch.count),
    MASTER_ADDR: `${host}:${launch.masterAddr.port}`,
    ...(launch.seed !== undefined ? { CHILD_SEED: launch.seed } : {}),
    ...(launch.batchSize !== undefined ? { CHILD_BATCH_SIZE: String(launch.batchSize) } : {}),
    ...(launch.traceparent !== undefined ? { TRACEPARENT: launch.traceparent } : {}),
  };
}

/** The full environment of a child: ROLE and CHILD_ID always win over what the spec carries. */
export function roleEnv(spec: ChildSpec): Record<string, string> {
  return { ...spec.env, ROLE: 'child', CHILD_ID: spec.id };
}

/** Keeps the last `limit` bytes written to it. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limit = 4096) {}

  push(chunk: Buffer | string): void {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.chunks.push(buf);
    this.size += buf.length;
    while (this.size - this.chunks[0].length >= this.limit) this.size -= this.chunks.shift()!.length;
  }

  toString(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.limit)).toString('utf8');
  }
}

/** A name safe as a DNS label, a Docker container name and a Kubernetes label value (at most 63 characters). */
export function dnsLabel(prefix: string, id: string): string {
  const clean = `${prefix}-${id}`.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
  return clean.slice(0, 63).replace(/^-+|-+$/g, '');
}
