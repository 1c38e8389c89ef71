// The runner's control interface, on loopback only: what `docker compose ps/kill/stop/start/restart` do.
//   GET  /status                              ports, PostgreSQL and every service's state
//   POST /services/<name>/kill?signal=SIGKILL a crash: the restart policy brings it back
//   POST /services/<name>/stop|start|restart  manual; for the postgres service: stop + start on the same data and port
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { constants } from 'node:os';
import type { ComposeLocal } from './compose-local.js';

const ACTIONS = ['kill', 'stop', 'start', 'restart'] as const;
type Action = (typeof ACTIONS)[number];

export class AdminServer {
  private readonly server: Server;

  constructor(
    private readonly topo: ComposeLocal,
    private readonly log: (line: string) => void,
  ) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: Error) => send(res, 500, { error: err.message }));
    });
  }

  async listen(port = 0): Promise<number> {
    await new Promise<void>((done, fail) => {
      this.server.once('error', fail);
      this.server.listen(port, '127.0.0.1', () => done());
    });
    return (this.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((done) => this.server.close(() => done()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin');
    if (req.method === 'GET' && url.pathname === '/status') return send(res, 200, this.topo.status());
    const m = url.pathname.match(/^\/services\/([\w.-]+)\/(\w+)$/);
    if (req.method !== 'POST' || !m || !(ACTIONS as readonly string[]).includes(m[2])) {
      return send(res, 404, { error: `unknown ${req.method} ${url.pathname}` });
    }
    const [, name, action] = m as unknown as [string, string, Action];
    const pg = this.topo.postgres;
    if (pg && name === pg.name) {
      if (action === 'kill') return send(res, 400, { error: 'postgres: use stop, start or restart' });
      this.log(`admin: ${action} ${name}`);
      await pg[action]();
      return send(res, 200, pg.status());
    }
    const service = this.topo.services.get(name);
    if (!service) return send(res, 404, { error: `no service ${name}` });
    this.log(
      `admin: ${action} ${name}${action === 'kill' ? ` ${url.searchParams.get('signal') ?? 'SIGKILL'}` : ''}`,
    );
    if (action === 'kill') {
      const signal = (url.searchParams.get('signal') ?? 'SIGKILL').toUpperCase();
      if (!(signal in constants.signals)) return send(res, 400, { error: `unknown signal ${signal}` });
      service.kill(signal as NodeJS.Signals);
    } else if (action === 'stop') await service.stop();
    else if (action === 'start') service.start();
    else await service.restart();
    return send(res, 200, service.status());
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
}
