import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { Gateway, loadRoutes, parseRoutes } from './gateway.js';

const repoRoot = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');

const routesYaml = (upstreams: Record<string, string>) => `
http:
  routers:
${Object.keys(upstreams)
  .map(
    (p) =>
      `    r${p.replace(/\W/g, '_')}:\n      rule: PathPrefix(\`${p}\`)\n      service: s${p.replace(/\W/g, '_')}`,
  )
  .join('\n')}
  services:
${Object.entries(upstreams)
  .map(
    ([p, url]) => `    s${p.replace(/\W/g, '_')}:\n      loadBalancer:\n        servers: [{ url: '${url}' }]`,
  )
  .join('\n')}
`;

/** An upstream that answers with what it received, and streams on /…/stream. */
async function echoUpstream(name: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    if (req.url?.endsWith('/stream')) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      return;
    }
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      res.writeHead(201, { 'content-type': 'application/json', 'x-upstream': name });
      res.end(JSON.stringify({ name, method: req.method, url: req.url, body, headers: req.headers }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe(parseRoutes.name, () => {
  it('reads the compose gateway`s routes: one prefix per routed role, upstreams rewritten', () => {
    const routes = loadRoutes(join(repoRoot, 'docker/traefik/routes.yml'), (u) => u.replace(':3000', ':1'));

    expect(routes.map((r) => `${r.prefix} -> ${r.servers.join(',')}`).sort()).toEqual([
      '/auth -> http://auth:1',
      '/calculator -> http://calculator:1',
      '/exchange -> http://exchange:1',
      '/generator -> http://generator:1',
      '/master -> http://master:1',
      '/transaction -> http://transaction:1',
    ]);
  });

  it('rejects a rule it cannot honour instead of ignoring it', () => {
    const text =
      'http:\n  routers:\n    a: { rule: "Host(`x`)", service: s }\n  services:\n    s: { loadBalancer: { servers: [{ url: "http://a" }] } }\n';

    expect(() => parseRoutes(text)).toThrow(/unsupported rule "Host\(`x`\)"/);
  });
});

describe(Gateway.name, () => {
  let gateway: Gateway;
  let base: string;
  const upstreams: Server[] = [];

  beforeAll(async () => {
    const a = await echoUpstream('a');
    const ab = await echoUpstream('ab');
    upstreams.push(a.server, ab.server);
    gateway = new Gateway(
      parseRoutes(routesYaml({ '/a': a.url, '/a/b': ab.url, '/down': 'http://127.0.0.1:1' })),
    );
    base = `http://127.0.0.1:${await gateway.listen(0)}`;
  });

  afterAll(async () => {
    await gateway.close();
    for (const s of upstreams) s.close();
  });

  it('forwards method, path, query and body unchanged, and the answer back', async () => {
    const res = await fetch(`${base}/a/x?q=1`, { method: 'POST', body: '{"n":1}' });
    const seen = await res.json();

    expect(res.status).toBe(201);
    expect(res.headers.get('x-upstream')).toBe('a');
    expect(seen).toMatchObject({ name: 'a', method: 'POST', url: '/a/x?q=1', body: '{"n":1}' });
  });

  it('adds the X-Forwarded headers Traefik adds', async () => {
    const { headers } = (await (await fetch(`${base}/a`)).json()) as { headers: Record<string, string> };

    expect(headers).toMatchObject({
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': base.replace('http://', ''),
    });
  });

  it('routes to the longest matching prefix', async () => {
    expect(((await (await fetch(`${base}/a/b/c`)).json()) as { name: string }).name).toBe('ab');
  });

  it('answers 404 for a path no route matches', async () => {
    const res = await fetch(`${base}/nowhere`);

    expect(res.status).toBe(404);
    expect(await res.text()).toBe('404 page not found\n');
  });

  it('answers 502 when the upstream cannot be reached', async () => {
    const res = await fetch(`${base}/down`);

    expect(res.status).toBe(502);
    expect(gateway.counters.badGateway).toBeGreaterThan(0);
  });

  it('streams a response before the upstream has finished it', async () => {
    const first = await new Promise<string>((resolveFirst, reject) => {
      const req = get(`${base}/a/stream`, (res) => {
        res.setEncoding('utf8');
        res.once('data', (chunk: string) => {
          resolveFirst(chunk);
          req.destroy();
        });
      });
      req.on('error', reject);
    });

    expect(first).toBe('data: first\n\n');
  });
});
