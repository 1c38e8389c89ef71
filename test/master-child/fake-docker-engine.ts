// A local stand-in for the Docker Engine API on a unix socket, speaking the real protocol for the calls the docker
// spawner makes (create, wait, start, logs, stop, delete). It records every request and lets a spec make a
// container exit, write to stderr, or make the Engine answer with an error.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http, { type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RecordedRequest {
  method: string;
  /** Path without the API version prefix, with its query. */
  path: string;
  /** The request target as sent. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: any;
}

interface FakeContainer {
  id: string;
  name: string;
  config: any;
  state: 'created' | 'running' | 'exited';
  waiters: ServerResponse[];
  logFollowers: ServerResponse[];
  stderr: Buffer[];
}

type Step = 'create' | 'start' | 'wait' | 'stop';

export class FakeDockerEngine {
  readonly requests: RecordedRequest[] = [];
  readonly containers = new Map<string, FakeContainer>();
  readonly images = new Set<string>();
  /** The next answer to give for a step, instead of the normal one. */
  readonly failures = new Map<Step, { status: number; message: string }>();
  /** Exit code a container gets when stopped through the API (SIGTERM handled: 0; killed: 137). */
  stopExitCode = 0;
  private readonly dir = mkdtempSync(join(tmpdir(), 'fake-docker-'));
  readonly socketPath = join(this.dir, 'docker.sock');
  private readonly server = http.createServer((req, res) => void this.handle(req, res));

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(this.socketPath, resolve));
    return this;
  }

  get dockerHost(): string {
    return `unix://${this.socketPath}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The one container created so far (most specs create one). */
  only(): FakeContainer {
    const all = [...this.containers.values()];
    if (all.length !== 1) throw new Error(`expected one container, have ${all.length}`);
    return all[0];
  }

  writeStderr(id: string, text: string): void {
    const c = this.containers.get(id)!;
    const frame = logFrame(2, text);
    c.stderr.push(frame);
    for (const f of c.logFollowers) f.write(frame);
  }

  /** Ends a container as if its process exited with `code`; auto-remove then deletes it. */
  exit(id: string, code: number): void {
    const c = this.containers.get(id);
    if (!c || c.state === 'exited') return;
    c.state = 'exited';
    for (const w of c.waiters) w.end(JSON.stringify({ StatusCode: code, Error: null }));
    for (const f of c.logFollowers) f.end();
    c.waiters = [];
    c.logFollowers = [];
    if (c.config.HostConfig?.AutoRemove) this.containers.delete(id);
  }

  private async handle(req: http.IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const path = (req.url ?? '').replace(/^\/v\d+\.\d+/, '');
    this.requests.push({
      method: req.method ?? '',
      path,
      url: req.url ?? '',
      headers: req.headers,
      body: text ? JSON.parse(text) : undefined,
    });
    const url = new URL(path, 'http://docker');
    const route = `${req.method} ${url.pathname}`;
    const fail = (step: Step) => {
      const f = this.failures.get(step);
      if (f) {
        this.failures.delete(step);
        send(res, f.status, { message: f.message });
      }
      return f !== undefined;
    };

    if (route === 'POST /containers/create') {
      if (fail('create')) return;
      const body = JSON.parse(text);
      if (!this.images.has(body.Image)) return send(res, 404, { message: `No such image: ${body.Image}` });
      const name = url.searchParams.get('name') ?? '';
      if ([...this.containers.values()].some((c) => c.name === name)) {
        return send(res, 409, { message: `Conflict. The container name "/${name}" is already in use` });
      }
      const id = randomBytes(32).toString('hex');
      this.containers.set(id, {
        id,
        name,
        config: body,
        state: 'created',
        waiters: [],
        logFollowers: [],
        stderr: [],
      });
      return send(res, 201, { Id: id, Warnings: [] });
    }
    const m = /^\/containers\/([^/]+)(\/(start|wait|stop|logs))?$/.exec(url.pathname);
    const c = m ? this.containers.get(m[1]) : undefined;
    if (!m || !c) return send(res, 404, { message: `No such container: ${m?.[1] ?? url.pathname}` });
    const action = `${req.method} ${m[3] ?? ''}`;
    switch (action) {
      case 'POST wait':
        if (fail('wait')) return;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
        c.waiters.push(res);
        return;
      case 'POST start':
        if (fail('start')) return;
        if (c.state === 'running') return send(res, 304);
        c.state = 'running';
        return send(res, 204);
      case 'GET logs':
        res.writeHead(200, { 'content-type': 'application/vnd.docker.multiplexed-stream' });
        for (const frame of c.stderr) res.write(frame);
        if (c.state === 'exited') return void res.end();
        res.flushHeaders();
        c.logFollowers.push(res);
        return;
      case 'POST stop':
        if (fail('stop')) return;
        if (c.state !== 'running') return send(res, 304);
        this.exit(c.id, this.stopExitCode);
        return send(res, 204);
      case 'DELETE ':
        this.containers.delete(c.id);
        for (const w of c.waiters)
          w.end(JSON.stringify({ StatusCode: -1, Error: { Message: 'container removed' } }));
        return send(res, 204);
      default:
        return send(res, 404, { message: `page not found: ${route}` });
    }
  }
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) return void res.writeHead(status).end();
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function logFrame(stream: number, text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}
