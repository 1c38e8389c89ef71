// The console's traces on spans from a real OpenTelemetry tracer provider, in a real browser: two console apps
// (the built console and platform modules, as the roles boot them) stand for a generator and an exchange, each
// with its own TracerProvider and SpanRing; their fixture routes make a call from one to the other over real
// HTTP with a W3C traceparent, one of them failing. The page runs under the Content-Security-Policy the console is
// served with. The full request paths of the roles themselves are covered by traces.e2e-spec.ts.
import 'reflect-metadata';
import {
  Controller,
  Get,
  Headers,
  Inject,
  Module,
  Query,
  type DynamicModule,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Tracer } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import request from 'supertest';
import { Browser, SCREENSHOTS, type PageProblems } from '../harness/browser.js';
import { freePort } from '../harness/ports.js';
import { ROOT } from '../harness/topology.js';

/** The policy the console page is served with in production (the HTTP edge sets it). */
const CSP = "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'";
const SHOWN_MS = 20_000;
const TRACER = Symbol('fixture tracer');

// The built modules, so the console serves its bundled page (the sources' ui/ folder holds unbundled modules).
const dist = (path: string) => import(resolve(ROOT, 'dist', path));

function traceparent(ctx: { traceId: string; spanId: string }): string {
  return `00-${ctx.traceId}-${ctx.spanId}-01`;
}

@Controller('fixture')
class GeneratorFixture {
  constructor(@Inject(TRACER) private readonly tracer: Tracer) {}

  static exchangeUrl = '';

  /** A request that calls the exchange, as GET /generator/random does. */
  @Get('random')
  async random(@Query('fail') fail?: string): Promise<{ traceId: string }> {
    const server = this.tracer.startSpan('GET /fixture/random', {
      kind: SpanKind.SERVER,
      attributes: { 'http.request.method': 'GET', 'http.route': '/fixture/random' },
    });
    const client = this.tracer.startSpan(
      'exchange.convert',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'rpc.system': 'nest-tcp',
          'rpc.method': 'exchange.convert',
          'peer.service': 'exchange',
        },
      },
      trace.setSpan(ROOT_CONTEXT, server),
    );
    const res = await fetch(`${GeneratorFixture.exchangeUrl}/fixture/convert${fail ? '?fail=1' : ''}`, {
      headers: { traceparent: traceparent(client.spanContext()) },
    });
    const answer = (await res.json()) as { ok: boolean };
    if (!answer.ok)
      client.setStatus({ code: SpanStatusCode.ERROR, message: 'exchange refused the conversion' });
    client.end();
    server.end();
    return { traceId: server.spanContext().traceId };
  }
}

@Controller('fixture')
class ExchangeFixture {
  constructor(@Inject(TRACER) private readonly tracer: Tracer) {}

  /** The called side: a server span under the caller's span, failing when asked to. */
  @Get('convert')
  convert(@Headers('traceparent') header: string, @Query('fail') fail?: string): { ok: boolean } {
    const [, traceId, spanId] = header.split('-');
    const caller = trace.setSpanContext(ROOT_CONTEXT, {
      traceId,
      spanId,
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
    const span = this.tracer.startSpan(
      'exchange.convert',
      { kind: SpanKind.SERVER, attributes: { 'rpc.system': 'nest-tcp', 'rpc.method': 'exchange.convert' } },
      caller,
    );
    if (fail) span.setStatus({ code: SpanStatusCode.ERROR, message: 'rate_missing' });
    span.end();
    return { ok: !fail };
  }
}

interface App {
  app: NestFastifyApplication;
  url: string;
  ring: { query(q?: object): { recent: unknown[]; slowest: unknown[] } };
  provider: TracerProvider;
}

/** One console app: the platform and console modules from the build, a span ring on its own tracer provider. */
async function consoleApp(role: string, port: number, others: string[], fixture: Type): Promise<App> {
  const [{ BootContext }, { resolveSettings }, { platformSettings }, { consoleSettings }] = await Promise.all(
    [
      dist('platform/boot-context.js'),
      dist('platform/config/settings.js'),
      dist('platform/platform.settings.js'),
      dist('roles/console/console.settings.js'),
    ],
  );
  const [{ PlatformModule }, { ConsoleModule }, { SpanRing, SPAN_RING }, edge] = await Promise.all([
    dist('platform/platform.module.js'),
    dist('roles/console/console.module.js'),
    dist('platform/tracing/span-ring.js'),
    dist('platform/http/http-edge.js'),
  ]);
  const source = { env: { CONSOLE_TARGETS: others.join(',') }, configDir: '/nonexistent' };
  const platform = resolveSettings(platformSettings, source);
  const values = new Map<unknown, unknown>([
    [platformSettings, platform],
    [consoleSettings, resolveSettings(consoleSettings, source)],
  ]);
  const boot = new BootContext([role], [], platform, values, new Map(), undefined, 'test');
  const ring = new SpanRing({ capacity: 256, slowest: 8 });
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': role }),
    spanProcessors: [ring],
  });
  @Module({
    controllers: [fixture],
    providers: [{ provide: TRACER, useValue: provider.getTracer('fixture') }],
  })
  class FixtureModule {}
  @Module({})
  class TracingFixtureModule {}
  const tracing: DynamicModule = {
    module: TracingFixtureModule,
    global: true,
    providers: [{ provide: SPAN_RING, useValue: ring }],
    exports: [SPAN_RING],
  };
  @Module({})
  class Root {}
  const app = await NestFactory.create<NestFastifyApplication>(
    {
      module: Root,
      imports: [PlatformModule.forRoot(boot, undefined), tracing, ConsoleModule, FixtureModule],
    },
    new FastifyAdapter(edge.fastifyOptions(platform.httpBodyLimit)),
    { logger: false, bodyParser: false },
  );
  edge.configureHttpEdge(app, { bodyLimit: platform.httpBodyLimit });
  await app.listen(port, '127.0.0.1');
  return { app, url: `http://127.0.0.1:${port}`, ring, provider };
}

describe('traces in the console, on spans from a real tracer provider in two apps', () => {
  let generator: App;
  let exchange: App;
  let browser: Browser;
  let page: Page;
  let problems: PageProblems;
  let ok: string;
  let failed: string;

  beforeAll(async () => {
    const [g, e] = [await freePort(), await freePort()];
    GeneratorFixture.exchangeUrl = `http://127.0.0.1:${e}`;
    [generator, exchange, browser] = await Promise.all([
      consoleApp('generator', g, [`http://127.0.0.1:${e}`], GeneratorFixture),
      consoleApp('exchange', e, [`http://127.0.0.1:${g}`], ExchangeFixture),
      Browser.launch(),
    ]);
    ok = (await request(generator.url).get('/fixture/random').expect(200)).body.traceId;
    failed = (await request(generator.url).get('/fixture/random?fail=1').expect(200)).body.traceId;
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await Promise.all([generator?.app.close(), exchange?.app.close()]);
    await Promise.all([generator?.provider.shutdown(), exchange?.provider.shutdown()]);
  });

  it("answers GET /spans with this app's spans as records, filtered by trace id and RPC method", async () => {
    const all = await request(exchange.url).get('/spans').expect(200);
    expect(all.body).toEqual(expect.objectContaining({ role: 'exchange', tracing: true }));
    const one = await request(exchange.url).get(`/spans?traceId=${ok}`).expect(200);
    expect(one.body.recent).toEqual([
      expect.objectContaining({ traceId: ok, name: 'exchange.convert', kind: 'server', role: 'exchange' }),
    ]);
    const calls = await request(generator.url).get('/spans?rpcMethod=exchange').expect(200);
    expect(calls.body.recent.map((s: { traceId: string }) => s.traceId).sort()).toEqual([ok, failed].sort());
  });

  it("lists the business traces, not the operations endpoints' own (readiness, the console's reads)", async () => {
    const readiness = generator.provider.getTracer('fixture').startSpan('GET /health/ready', {
      kind: SpanKind.SERVER,
      attributes: { 'http.route': '/health/ready' },
    });
    readiness.end();
    const lists = await request(generator.url).get('/console/api/traces').expect(200);
    const listed = (l: Array<{ traceId: string }>) => l.map((t) => t.traceId);
    expect(listed(lists.body.recent)).toEqual(expect.arrayContaining([ok, failed]));
    expect(listed(lists.body.recent)).not.toContain(readiness.spanContext().traceId);
    expect(listed(lists.body.slowest).sort()).toEqual([ok, failed].sort());
    const kept = await request(generator.url).get(`/spans?traceId=${readiness.spanContext().traceId}`);
    expect(kept.body.recent).toHaveLength(1);
  });

  it('joins one trace across both apps, the exchange span under the generator call that caused it', async () => {
    const res = await request(generator.url).get(`/console/api/traces/${ok}`).expect(200);
    const spans = res.body.spans as Array<{
      name: string;
      role: string;
      spanId: string;
      parentSpanId: string;
    }>;
    expect(spans.map((s) => `${s.role} ${s.name}`)).toEqual([
      'generator GET /fixture/random',
      'generator exchange.convert',
      'exchange exchange.convert',
    ]);
    expect(spans[2].parentSpanId).toBe(spans[1].spanId);
    expect(res.body.errors).toEqual([]);
  });

  it('lists the traces, opens a waterfall with both roles, and makes the failed span stand out by label', async () => {
    ({ page, problems } = await browser.open(`${generator.url}/console`));
    await underCsp(page);
    await page.locator(`#recent-traces tr[data-trace="${ok}"] button`).click({ timeout: SHOWN_MS });
    const rows = page.locator(`#waterfall[data-trace="${ok}"] tr.span`);
    await rows.nth(2).waitFor({ timeout: SHOWN_MS });
    expect(await rows.evaluateAll((trs) => trs.map((tr) => `${tr.dataset.role} ${tr.dataset.span}`))).toEqual(
      ['generator GET /fixture/random', 'generator exchange.convert', 'exchange exchange.convert'],
    );
    expect(await page.locator('#waterfall tr.failed').count()).toBe(0);

    await page.locator(`#recent-traces tr[data-trace="${failed}"] button`).click();
    const bad = page.locator(`#waterfall[data-trace="${failed}"] tr.span.failed`);
    await bad.nth(1).waitFor({ timeout: SHOWN_MS });
    expect(await bad.evaluateAll((trs) => trs.map((tr) => `${tr.dataset.role} ${tr.dataset.span}`))).toEqual([
      'generator exchange.convert',
      'exchange exchange.convert',
    ]);
    expect(await bad.nth(0).locator('[data-status="error"]').textContent()).toBe(
      '✕ error: exchange refused the conversion',
    );
    expect(await bad.nth(1).locator('[data-status="error"]').textContent()).toBe('✕ error: rate_missing');
    expect(await page.locator(`#waterfall[data-trace="${failed}"] tr.span:not(.failed)`).count()).toBe(1);
    expect(await page.locator(`#recent-traces tr[data-trace="${failed}"]`).getAttribute('data-error')).toBe(
      'true',
    );
  });

  it("shows a span's attributes when its row is clicked", async () => {
    await page.locator('#waterfall tr.span[data-kind="client"]').click();
    const details = page.locator('#waterfall tr.details');
    await details.waitFor({ timeout: SHOWN_MS });
    expect(await details.textContent()).toContain('rpc.method');
    expect(await details.textContent()).toContain('exchange.convert');
  });

  it("opens a call edge's slowest traces from the graph, and a waterfall from there", async () => {
    // Its label, which sits between the two role boxes (the line's ends are under them).
    await page.locator('[data-graph-edge="generator->exchange"] text').click();
    await page.locator('#traces[data-edge="generator->exchange"]').waitFor({ timeout: SHOWN_MS });
    const listed = page.locator('#slowest-traces tr[data-trace]');
    await listed.nth(1).waitFor({ timeout: SHOWN_MS });
    expect((await listed.evaluateAll((trs) => trs.map((tr) => tr.dataset.trace))).sort()).toEqual(
      [ok, failed].sort(),
    );
    await page.locator(`#slowest-traces tr[data-trace="${ok}"] button`).click();
    await page.locator(`#waterfall[data-trace="${ok}"] tr.span`).nth(2).waitFor({ timeout: SHOWN_MS });
    await mkdir(SCREENSHOTS, { recursive: true });
    await page.locator('#traces').screenshot({ path: join(SCREENSHOTS, 'console-traces-fixture.png') });
    expect(problems).toEqual({ consoleErrors: [], failedRequests: [] });
  });
});

/** Reloads the console with the policy the HTTP edge serves it with: a blocked script or style is a page error. */
async function underCsp(page: Page): Promise<void> {
  await page.route('**/console', async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, headers: { ...response.headers(), 'content-security-policy': CSP } });
  });
  await page.reload();
}
