// Starts each child as a local Node process running this platform's entry point with ROLE=child, so a master
// started with `npm start` needs nothing else installed.
import { spawn as spawnProcess, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type ChildExit,
  type ChildHandle,
  type ChildSpawner,
  type ChildSpec,
  roleEnv,
  SpawnError,
  TailBuffer,
} from './child-spawner.js';

export interface ProcessSpawnerOptions {
  /** Executable; default this Node binary. */
  command?: string;
  /** Arguments; default the platform's compiled entry point (dist/main.js). */
  args?: string[];
  /** Environment every child inherits (PATH, LOG_LEVEL...); the child's own variables win. */
  baseEnv?: Record<string, string>;
  /** Between SIGTERM and SIGKILL. */
  graceMs: number;
  /** Where a child's stdout goes; stderr is always captured for its tail. Default ignored. */
  stdout?: 'ignore' | 'inherit';
  tailBytes?: number;
  /** node:child_process spawn, replaceable in tests. */
  spawn?: typeof spawnProcess;
}

/** dist/main.js, seen from dist/modules/master-child/spawners/. */
export const DEFAULT_ENTRY = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'main.js');

export class ProcessSpawner implements ChildSpawner {
  readonly kind = 'process' as const;

  constructor(private readonly options: ProcessSpawnerOptions) {}

  async spawn(spec: ChildSpec): Promise<ChildHandle> {
    const { command = process.execPath, args = [DEFAULT_ENTRY], baseEnv = {} } = this.options;
    const spawnFn = this.options.spawn ?? spawnProcess;
    // Children share the host's ports: each one's health listener takes a free port.
    const env = { ...baseEnv, HTTP_PORT: '0', ...roleEnv(spec) };
    const child = spawnFn(command, args, { env, stdio: ['ignore', this.options.stdout ?? 'ignore', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (err) =>
        reject(new SpawnError(`could not start child ${spec.id} (${command}): ${(err as Error).message}`)),
      );
    });
    return new ProcessChild(spec.id, child, this.options.graceMs, new TailBuffer(this.options.tailBytes));
  }
}

class ProcessChild implements ChildHandle {
  readonly ref: string;
  private readonly exited: Promise<ChildExit>;
  private ended = false;

  constructor(
    readonly id: string,
    private readonly child: ChildProcess,
    private readonly graceMs: number,
    private readonly tail: TailBuffer,
  ) {
    this.ref = String(child.pid);
    child.stderr?.on('data', (chunk: Buffer) => tail.push(chunk));
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        this.ended = true;
        resolve(
          signal
            ? { exitCode: 128 + (constants.signals[signal] ?? 0), signal }
            : { exitCode: code ?? null, ...(code === null ? { error: 'exited without a status' } : {}) },
        );
      });
    });
  }

  wait(): Promise<ChildExit> {
    return this.exited;
  }

  async stop(): Promise<void> {
    if (this.ended) return;
    this.child.kill('SIGTERM');
    const killer = setTimeout(() => this.child.kill('SIGKILL'), this.graceMs);
    await this.exited;
    clearTimeout(killer);
  }

  stderrTail(): string {
    return this.tail.toString();
  }
}
