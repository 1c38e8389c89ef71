import {
  Body,
  Controller,
  Get,
  Injectable,
  Module,
  Param,
  Post,
  Res,
  type OnModuleDestroy,
} from '@nestjs/common';
import { DiscoveryModule, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { registry } from '../metrics/metrics.js';
import { configureHttpEdge, dropIdleAdapterHooks, fastifyOptions } from './http-edge.js';
import { waitFor } from '../../../test/harness/wait-for.js';

@Controller('things')
class ThingsController {
  @Get()
  list() {
    return ['a'];
  }

  @Post()
  create(@Body() body: unknown) {
    return { body };
  }

  @Get('listeners')
  listeners(@Res({ passthrough: true }) reply: FastifyReply) {
    return { finish: reply.raw.listenerCount('finish'), error: reply.raw.listenerCount('error') };
  }

  @Get('slow')
  async slow() {
    await new Promise((r) => setTimeout(r, 40));
    return { slow: true };
  }

  @Get('fail')
  async fail() {
    await null;
    throw new Error('boom');
  }

  @Get('item/:id')
  item(@Param('id') id: string) {
    return { id };
  }
}

/** Once held, holds app.close() in its shutdown hooks until released, so requests can arrive meanwhile. */
@Injectable()
class SlowShutdown implements OnModuleDestroy {
  held = false;
  release!: () => void;
  entered!: Promise<void>;
  private enter!: () => void;
  constructor() {
    this.entered = new Promise((r) => (this.enter = r));
  }
  onModuleDestroy(): Promise<void> | undefined {
    if (!this.held) return undefined;
    this.enter();
    return new Promise((r) => (this.release = r));
  }
}

@Module({ imports: [DiscoveryModule], controllers: [ThingsController], providers: [SlowShutdown] })
class ThingsModule {}

const limits = { bodyLimit: 1024 };

async function start(opts: { cors?: boolean; middleware?: boolean; return503OnClosing?: boolean } = {}) {
  const app = await NestFactory.create<NestFastifyApplication>(
    ThingsModule,
    new FastifyAdapter(fastifyOptions(limits.bodyLimit)),
    { logger: false, bodyParser: false, return503OnClosing: opts.return503OnClosing },
  );
  configureHttpEdge(app, limits);
  if (opts.cors) app.enableCors({ origin: '*' });
  if (opts.middleware)
    app.use((_req: unknown, res: { setHeader(n: string, v: string): void }, next: () => void) => {
      res.setHeader('x-middleware', 'ran');
      next();
    });
  await app.init();
  const dropped = await dropIdleAdapterHooks(app);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  return { app, dropped, port, url: `http://127.0.0.1:${port}`, fastify };
}

/** Every route's hook lists as printRoutes shows them: `(stage) ["fn()", ...]`, one line per stage and route. */
function hookLines(fastify: FastifyInstance): Array<{ stage: string; count: number }> {
  return [
    ...fastify.printRoutes({ includeHooks: true, commonPrefix: false }).matchAll(/• \((\w+)\) (\[.*\])/g),
  ].map((m) => ({ stage: m[1], count: (JSON.parse(m[2]) as string[]).length }));
}

function rawRequest(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => sock.write(head));
    let out = '';
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      out += d;
      if (/\r\n\r\n[\s\S]*\}$/.test(out)) sock.end();
    });
    sock.on('end', () => resolve(out));
    sock.on('error', reject);
  });
}

describe('HTTP edge hooks', () => {
  it("takes Nest's idle request hooks off every route and adds none of its own", async () => {
    const { app, dropped, fastify } = await start();
    try {
      expect(dropped).toBe(true);
      const lines = hookLines(fastify);
      expect(lines.filter((l) => l.stage === 'onRequest' || l.stage === 'onResponse')).toEqual([]);
    } finally {
      await app.close();
    }
  });

  it('leaves a response the listeners Node itself gives it: none per request for the latency metric', async () => {
    const plain = createServer((_req, res) =>
      res.end(JSON.stringify({ finish: res.listenerCount('finish'), error: res.listenerCount('error') })),
    );
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    const { app, url } = await start();
    try {
      const { port } = plain.address() as { port: number };
      const node = await (await fetch(`http://127.0.0.1:${port}/`)).json();
      expect(await (await fetch(`${url}/things/listeners`)).json()).toEqual(node);
    } finally {
      plain.close();
      await app.close();
    }
  });

  it('records every answer once, routed or not, with its latency from the start of routing', async () => {
    const { app, url } = await start();
    const series = async (labels: string) => {
      const text = await registry.getSingleMetricAsString('http_request_duration_seconds');
      const value = (suffix: string) =>
        Number(
          text
            .split('\n')
            .find((l) => l.startsWith(`http_request_duration_seconds_${suffix}{${labels}`))
            ?.split(' ')
            .pop() ?? 0,
        );
      return { count: value('count'), sum: value('sum') };
    };
    const labels = {
      routed: 'method="GET",route="/things",status="200",outcome="ok"',
      slow: 'method="GET",route="/things/slow",status="200",outcome="ok"',
      failed: 'method="GET",route="/things/fail",status="500",outcome="error"',
      missing: 'method="GET",route="unmatched",status="404",outcome="rejected"',
      unparsed: 'method="POST",route="/things",status="400",outcome="rejected"',
    };
    const counts = async () =>
      Object.fromEntries(
        await Promise.all(Object.entries(labels).map(async ([k, l]) => [k, (await series(l)).count])),
      ) as Record<keyof typeof labels, number>;
    try {
      const before = await counts();
      const slowBefore = await series(labels.slow);
      await fetch(`${url}/things`);
      await fetch(`${url}/things`);
      await fetch(`${url}/things/slow`);
      expect((await fetch(`${url}/things/fail`)).status).toBe(500);
      await fetch(`${url}/nowhere`);
      // An empty parameter: the route's handler sends it to not found, which records it (once) as unmatched.
      expect((await fetch(`${url}/things/item/`)).status).toBe(404);
      await fetch(`${url}/things`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{',
      });
      // An answer is recorded once it has been handed to the socket, which may be just after the client read it.
      const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
      await waitFor(
        async () => total(await counts()) >= total(before) + 7,
        'the seven answers to be recorded',
      );
      expect(await counts()).toEqual({
        routed: before.routed + 2,
        slow: before.slow + 1,
        failed: before.failed + 1,
        missing: before.missing + 2,
        unparsed: before.unparsed + 1,
      });
      const slowAfter = await series(labels.slow);
      expect(slowAfter.sum - slowBefore.sum).toBeGreaterThanOrEqual(0.035);
      expect(slowAfter.sum - slowBefore.sum).toBeLessThan(5);
    } finally {
      await app.close();
    }
  });

  it('keeps every hook when a feature that needs them is in use (CORS here), and CORS works', async () => {
    const { app, dropped, fastify, url } = await start({ cors: true });
    try {
      expect(dropped).toBe(false);
      expect(hookLines(fastify).filter((l) => l.stage === 'onRequest').length).toBeGreaterThan(0);
      const res = await fetch(`${url}/things`, { headers: { origin: 'http://elsewhere.example' } });
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
      expect(res.headers.get('x-request-id')).toBeTruthy();
    } finally {
      await app.close();
    }
  });

  it('keeps every hook when middleware is in use, and the middleware runs', async () => {
    const { app, dropped, url } = await start({ middleware: true });
    try {
      expect(dropped).toBe(false);
      const res = await fetch(`${url}/things`);
      expect(res.headers.get('x-middleware')).toBe('ran');
    } finally {
      await app.close();
    }
  });

  it('refuses to start when such a feature is switched on after the hooks were taken off', async () => {
    const app = await NestFactory.create<NestFastifyApplication>(
      ThingsModule,
      new FastifyAdapter(fastifyOptions(limits.bodyLimit)),
      { logger: false, bodyParser: false },
    );
    configureHttpEdge(app, limits);
    await app.init();
    expect(await dropIdleAdapterHooks(app)).toBe(true);
    app.enableCors({ origin: '*' });
    await expect(app.listen(0, '127.0.0.1')).rejects.toThrow(/enabled after dropIdleAdapterHooks/);
    await app.close().catch(() => undefined);
  });

  it('sends the request id on routes, not-found and parse errors, and refuses a target without a leading slash', async () => {
    const { app, port, url } = await start();
    try {
      const ok = await fetch(`${url}/things`, { headers: { 'x-request-id': 'id-1' } });
      expect([ok.status, ok.headers.get('x-request-id')]).toEqual([200, 'id-1']);
      const missing = await fetch(`${url}/nowhere`, { headers: { 'x-request-id': 'id-2' } });
      expect([missing.status, missing.headers.get('x-request-id')]).toEqual([404, 'id-2']);
      const bad = await fetch(`${url}/things`, {
        method: 'POST',
        headers: { 'x-request-id': 'id-3', 'content-type': 'application/json' },
        body: '{"a":',
      });
      expect([bad.status, bad.headers.get('x-request-id')]).toEqual([400, 'id-3']);
      const absolute = await rawRequest(
        port,
        `GET http://127.0.0.1:${port}/things HTTP/1.1\r\nhost: 127.0.0.1\r\nx-request-id: id-4\r\n\r\n`,
      );
      expect(absolute).toMatch(/^HTTP\/1.1 404 /);
      expect(absolute).toMatch(/x-request-id: id-4/i);
      expect(absolute).toMatch(/application\/problem\+json/);
    } finally {
      await app.close();
    }
  });

  it('with return503OnClosing answers 503 (and closes the connection) while app.close() runs its hooks', async () => {
    const { app, url } = await start({ return503OnClosing: true });
    const slow = app.get(SlowShutdown);
    slow.held = true;
    const closing = app.close();
    await slow.entered;
    try {
      const res = await fetch(`${url}/things`, { headers: { 'x-request-id': 'id-5' } });
      expect(res.status).toBe(503);
      expect(res.headers.get('connection')).toBe('close');
      expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
      expect(((await res.json()) as { requestId: string }).requestId).toBe('id-5');
    } finally {
      slow.release();
      await closing;
    }
  });

  it('without return503OnClosing keeps serving while app.close() runs its hooks, as Nest does', async () => {
    const { app, url } = await start();
    const slow = app.get(SlowShutdown);
    slow.held = true;
    const closing = app.close();
    await slow.entered;
    try {
      expect((await fetch(`${url}/things`)).status).toBe(200);
    } finally {
      slow.release();
      await closing;
    }
  });
});
