// The local stand-in for the Traefik gateway: reads the same file-provider routes (docker/traefik/routes.yml)
// and forwards each request to the service of the longest matching PathPrefix, unchanged (prefixes are not
// stripped), on one entry port. Answers like Traefik where it matters: 404 for no route, 502 when the upstream
// cannot be reached, X-Forwarded-* headers added.
import {
  Agent,
  createServer,
  request,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ComposeError } from './compose-file.js';

export interface Route {
  router: string;
  prefix: string;
  /** Upstream base URLs, round-robin. */
  servers: string[];
}

interface TraefikFile {
  http?: {
    routers?: Record<string, { rule?: string; service?: string }>;
    services?: Record<string, { loadBalancer?: { servers?: { url: string }[] } }>;
  };
}

/** Parses the routers' `PathPrefix(...)` rules (joined by `||`) into routes, longest prefix first. */
export function parseRoutes(text: string, rewrite: (url: string) => string = (u) => u): Route[] {
  const doc = (parse(text) ?? {}) as TraefikFile;
  const problems: string[] = [];
  const routes: Route[] = [];
  for (const [router, r] of Object.entries(doc.http?.routers ?? {})) {
    const servers = (doc.http?.services?.[r.service ?? '']?.loadBalancer?.servers ?? []).map((s) =>
      rewrite(s.url),
    );
    if (servers.length === 0) problems.push(`router ${router}: service ${r.service} has no servers`);
    const parts = (r.rule ?? '').split('||').map((p) => p.trim());
    for (const part of parts) {
      const m = part.match(/^PathPrefix\(\s*[`'"]([^`'"]+)[`'"]\s*\)$/);
      if (!m) problems.push(`router ${router}: unsupported rule "${part}" (only PathPrefix is supported)`);
      else routes.push({ router, prefix: m[1], servers });
    }
  }
  if (problems.length > 0) throw new ComposeError(problems);
  // Traefik's default priority is the rule's length: the longest prefix wins.
  return routes.sort((a, b) => b.prefix.length - a.prefix.length);
}

export function loadRoutes(path: string, rewrite?: (url: string) => string): Route[] {
  return parseRoutes(readFileSync(path, 'utf8'), rewrite);
}

const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];

function withoutHopByHop(headers: IncomingMessage['headers']): IncomingMessage['headers'] {
  const out = { ...headers };
  for (const name of HOP_BY_HOP) delete out[name];
  return out;
}

export interface GatewayCounters {
  requests: number;
  notFound: number;
  badGateway: number;
}

export class Gateway {
  readonly counters: GatewayCounters = { requests: 0, notFound: 0, badGateway: 0 };
  private readonly server: Server;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256 });
  private readonly next = new Map<string, number>();

  constructor(
    private readonly routes: Route[],
    private readonly log: (line: string) => void = () => {},
  ) {
    this.server = createServer((req, res) => this.forward(req, res));
    // Traefik keeps client connections open for long streams (SSE); so do we.
    this.server.requestTimeout = 0;
  }

  async listen(port: number, host = '127.0.0.1'): Promise<number> {
    await new Promise<void>((done, fail) => {
      this.server.once('error', fail);
      this.server.listen(port, host, () => done());
    });
    return (this.server.address() as AddressInfo).port;
  }

  match(path: string): Route | undefined {
    return this.routes.find((r) => path.startsWith(r.prefix));
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    this.counters.requests++;
    const route = this.match(req.url ?? '/');
    if (!route) {
      this.counters.notFound++;
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
      return;
    }
    const i = this.next.get(route.router) ?? 0;
    this.next.set(route.router, i + 1);
    const target = new URL(route.servers[i % route.servers.length]);
    const client = req.socket.remoteAddress ?? '';
    const headers = {
      ...withoutHopByHop(req.headers),
      'x-forwarded-for': [req.headers['x-forwarded-for'], client].filter(Boolean).join(', '),
      'x-forwarded-host': req.headers.host ?? '',
      'x-forwarded-port': String(req.socket.localPort ?? ''),
      'x-forwarded-proto': 'http',
      'x-real-ip': client,
    };
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers,
        agent: this.agent,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.statusMessage, withoutHopByHop(up.headers));
        up.pipe(res);
        up.on('error', () => res.destroy());
        res.on('close', () => {
          if (!res.writableFinished) up.destroy();
        });
      },
    );
    upstream.on('error', (err) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      this.counters.badGateway++;
      this.log(`gateway: ${req.method} ${req.url} -> ${target.host}: ${err.message}`);
      res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' }).end('Bad Gateway\n');
    });
    req.on('aborted', () => upstream.destroy());
    req.pipe(upstream);
  }

  async close(): Promise<void> {
    this.server.closeIdleConnections();
    await new Promise<void>((done) => {
      this.server.close(() => done());
      // Open streams (SSE) would hold close() forever: their upstream is stopping too.
      setTimeout(() => this.server.closeAllConnections(), 1000).unref();
    });
    this.agent.destroy();
  }
}
