// Starts each child as a container through the Docker Engine API (no docker CLI): create with ROLE=child,
// auto-remove, the master's labels and network; register a wait before start so a fast exit is never missed;
// follow its stderr for the tail; stop with the API's SIGTERM-then-SIGKILL.
import type { IncomingMessage } from 'node:http';
import {
  type ChildExit,
  type ChildHandle,
  type ChildSpawner,
  type ChildSpec,
  dnsLabel,
  roleEnv,
  SpawnError,
  TailBuffer,
} from './child-spawner.js';
import {
  describeEndpoint,
  dockerEndpoint,
  type HttpCall,
  HttpConnectionError,
  type HttpEndpoint,
  httpRequest,
  type HttpResult,
  type HttpStream,
  httpStream,
  readAll,
} from './http.util.js';

export interface DockerSpawnerOptions {
  /** unix:///var/run/docker.sock, tcp://host:2375 or http://host:port. */
  dockerHost: string;
  image: string;
  /** The network children join (the compose project's, so they can reach the master); default Docker's bridge. */
  network?: string;
  /** Put in every child's labels, so a master's children can be found. */
  masterName: string;
  /** Between SIGTERM and SIGKILL, rounded up to whole seconds for the API. */
  stopGraceMs: number;
  /** Environment every child gets (LOG_LEVEL...); the child's own variables win. */
  baseEnv?: Record<string, string>;
  /** A host directory bound read-only into every child (the child's certificate under mutual TLS). */
  childBind?: { source: string; target: string };
  /** Container names are `<prefix>-<child id>`. Default polyrole-child. */
  namePrefix?: string;
  /** Pins the Engine API version (e.g. "1.43"); default the daemon's own. */
  apiVersion?: string;
  memoryBytes?: number;
  nanoCpus?: number;
  tailBytes?: number;
}

export const DOCKER_LABELS = {
  master: 'polyrole.master',
  role: 'polyrole.role',
  childId: 'polyrole.child-id',
} as const;

export class DockerSpawner implements ChildSpawner {
  readonly kind = 'docker' as const;
  private readonly endpoint: HttpEndpoint;
  private readonly prefix: string;

  constructor(private readonly options: DockerSpawnerOptions) {
    this.endpoint = dockerEndpoint(options.dockerHost);
    this.prefix = options.apiVersion ? `/v${options.apiVersion}` : '';
  }

  /** The create body: exactly what Docker is asked to run. */
  containerConfig(spec: ChildSpec): Record<string, unknown> {
    const o = this.options;
    const env = { ...o.baseEnv, ...roleEnv(spec) };
    return {
      Image: o.image,
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      Labels: {
        [DOCKER_LABELS.master]: o.masterName,
        [DOCKER_LABELS.role]: 'child',
        [DOCKER_LABELS.childId]: spec.id,
      },
      HostConfig: {
        AutoRemove: true,
        ...(o.network ? { NetworkMode: o.network } : {}),
        ...(o.memoryBytes ? { Memory: o.memoryBytes } : {}),
        ...(o.nanoCpus ? { NanoCpus: o.nanoCpus } : {}),
        ...(o.childBind ? { Binds: [`${o.childBind.source}:${o.childBind.target}:ro`] } : {}),
      },
    };
  }

  async spawn(spec: ChildSpec): Promise<ChildHandle> {
    const name = dnsLabel(this.options.namePrefix ?? 'polyrole-child', spec.id);
    const created = await this.call(spec, 'create', {
      method: 'POST',
      path: `/containers/create?name=${encodeURIComponent(name)}`,
      body: this.containerConfig(spec),
    });
    if (created.status !== 201)
      throw this.answerError(spec, 'create', created.status, created.json, created.text);
    const containerId = String((created.json as { Id?: unknown })?.Id ?? '');
    if (!containerId) throw new SpawnError(`Docker created child ${spec.id} but did not say its id`);

    let waiting: HttpStream | undefined;
    try {
      waiting = await this.stream(spec, 'wait for', {
        method: 'POST',
        path: `/containers/${containerId}/wait?condition=next-exit`,
      });
      if (waiting.status !== 200) {
        const text = await readAll(waiting.response);
        throw this.answerError(spec, 'wait for', waiting.status, parseJson(text), text);
      }
      const started = await this.call(spec, 'start', {
        method: 'POST',
        path: `/containers/${containerId}/start`,
      });
      if (started.status !== 204 && started.status !== 304) {
        throw this.answerError(spec, 'start', started.status, started.json, started.text);
      }
    } catch (err) {
      waiting?.close();
      await this.remove(containerId);
      throw err;
    }
    const tail = new TailBuffer(this.options.tailBytes);
    void this.followStderr(containerId, tail);
    return new DockerChild(spec.id, containerId, waitOutcome(waiting.response), tail, () =>
      this.stopContainer(spec, containerId),
    );
  }

  private async stopContainer(spec: ChildSpec, containerId: string): Promise<void> {
    const seconds = Math.ceil(this.options.stopGraceMs / 1000);
    const res = await this.call(spec, 'stop', {
      method: 'POST',
      path: `/containers/${containerId}/stop?t=${seconds}`,
      timeoutMs: this.options.stopGraceMs + 30_000,
    });
    // 304: already stopped; 404: already gone (auto-removed).
    if (res.status !== 204 && res.status !== 304 && res.status !== 404) {
      throw this.answerError(spec, 'stop', res.status, res.json, res.text);
    }
  }

  /** Best effort: a container that failed to start is removed so it does not linger. */
  private async remove(containerId: string): Promise<void> {
    try {
      await httpRequest(this.endpoint, {
        method: 'DELETE',
        path: `${this.prefix}/containers/${containerId}?force=true`,
      });
    } catch {
      // The Engine is unreachable; the spawn error already says so.
    }
  }

  private async followStderr(containerId: string, tail: TailBuffer): Promise<void> {
    try {
      const logs = await httpStream(this.endpoint, {
        method: 'GET',
        path: `${this.prefix}/containers/${containerId}/logs?follow=1&stdout=0&stderr=1`,
      });
      if (logs.status !== 200) {
        logs.close();
        return;
      }
      const demux = new LogDemuxer((stream, payload) => {
        if (stream === 2) tail.push(payload);
      });
      for await (const chunk of logs.response) demux.push(chunk as Buffer);
    } catch {
      // The tail is a courtesy: a container removed before its logs were read just has an empty tail.
    }
  }

  private async call(spec: ChildSpec, step: string, call: HttpCall): Promise<HttpResult> {
    try {
      return await httpRequest(this.endpoint, { ...call, path: this.prefix + call.path });
    } catch (err) {
      throw this.unreachable(spec, step, err);
    }
  }

  private async stream(spec: ChildSpec, step: string, call: HttpCall): Promise<HttpStream> {
    try {
      return await httpStream(this.endpoint, { ...call, path: this.prefix + call.path });
    } catch (err) {
      throw this.unreachable(spec, step, err);
    }
  }

  private unreachable(spec: ChildSpec, step: string, err: unknown): SpawnError {
    const reason = err instanceof HttpConnectionError ? err.code : (err as Error).message;
    return new SpawnError(
      `cannot reach the Docker Engine at ${describeEndpoint(this.endpoint)} to ${step} child ${spec.id} (${reason})`,
      'docker_unreachable',
    );
  }

  private answerError(
    spec: ChildSpec,
    step: string,
    status: number,
    json: unknown,
    text: string,
  ): SpawnError {
    const said = (json as { message?: unknown } | undefined)?.message ?? text.trim();
    if (step === 'create' && status === 404) {
      return new SpawnError(
        `image ${this.options.image} is not on the Docker host (pull or build it first): ${said}`,
        'image_not_found',
      );
    }
    if (status === 409) {
      return new SpawnError(
        `Docker refused to ${step} child ${spec.id} (409 conflict): ${said}`,
        'spawn_conflict',
      );
    }
    return new SpawnError(`Docker answered ${status} when asked to ${step} child ${spec.id}: ${said}`);
  }
}

class DockerChild implements ChildHandle {
  constructor(
    readonly id: string,
    readonly ref: string,
    private readonly exited: Promise<ChildExit>,
    private readonly tail: TailBuffer,
    private readonly stopper: () => Promise<void>,
  ) {}

  wait(): Promise<ChildExit> {
    return this.exited;
  }

  stop(): Promise<void> {
    return this.stopper();
  }

  stderrTail(): string {
    return this.tail.toString();
  }
}

/** The wait answer: `{StatusCode, Error: {Message} | null}` once the container exits. */
async function waitOutcome(res: IncomingMessage): Promise<ChildExit> {
  try {
    const text = await readAll(res);
    const body = parseJson(text) as { StatusCode?: unknown; Error?: { Message?: string } | null } | undefined;
    if (typeof body?.StatusCode !== 'number')
      return { exitCode: null, error: `unexpected wait answer: ${text}` };
    const message = body.Error?.Message;
    return { exitCode: body.StatusCode, ...(message ? { error: message } : {}) };
  } catch (err) {
    return { exitCode: null, error: `lost the Docker Engine while waiting: ${(err as Error).message}` };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Splits Docker's multiplexed log stream: frames of [stream, 0, 0, 0, size (uint32 BE)] + payload. */
export class LogDemuxer {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (stream: number, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      this.onFrame(this.pending[0], this.pending.subarray(8, 8 + size));
      this.pending = this.pending.subarray(8 + size);
    }
  }
}
