import { context, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { SpanRing, type SpanRingOptions } from './span-ring.js';

/** Epoch seconds at which every fixture span starts, so durations are exact and nothing sleeps. */
const T0 = 1_790_000_000;
/** T0 plus `ms` as an HrTime ([seconds, nanoseconds below one second]). */
const at = (ms: number): [number, number] => [T0 + Math.floor(ms / 1000), (ms % 1000) * 1e6];

function traced(options: SpanRingOptions, role = 'transaction') {
  const ring = new SpanRing(options);
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': role }),
    spanProcessors: [ring],
  });
  const tracer = provider.getTracer('span-ring.spec');
  return { ring, provider, tracer };
}

/** Starts and ends a span lasting `ms`, `atMs` after T0, under `parent` when given. */
function span(
  tracer: Tracer,
  name: string,
  { ms = 1, atMs = 0, parent, kind, attributes, links, fail }: SpanFixture = {},
): Span {
  const ctx = parent ? trace.setSpan(context.active(), parent) : context.active();
  const s = tracer.startSpan(name, { kind, attributes, links, startTime: at(atMs) }, ctx);
  if (fail) s.setStatus({ code: SpanStatusCode.ERROR, message: fail });
  s.end(at(atMs + ms));
  return s;
}

interface SpanFixture {
  ms?: number;
  atMs?: number;
  parent?: Span;
  kind?: SpanKind;
  attributes?: Record<string, string | number>;
  links?: Array<{ context: ReturnType<Span['spanContext']> }>;
  fail?: string;
}

const names = (records: Array<{ name: string }>) => records.map((r) => r.name);

describe(SpanRing.name, () => {
  it('reads an ended span back as a plain record: ids, parent, kind, role, start, duration, status, attributes, links', () => {
    const { ring, tracer } = traced({});
    const cause = span(tracer, 'POST /transaction/transaction', { kind: SpanKind.SERVER });
    const parent = tracer.startSpan('outbox deliver', { startTime: at(0) });
    span(tracer, 'psp.process', {
      parent,
      kind: SpanKind.CLIENT,
      atMs: 2,
      ms: 3,
      attributes: { 'rpc.system': 'nest-tcp', 'rpc.method': 'psp.process' },
      links: [{ context: cause.spanContext() }],
      fail: 'psp_unavailable',
    });
    const [record] = ring.query().recent;
    expect(JSON.parse(JSON.stringify(record))).toEqual({
      traceId: parent.spanContext().traceId,
      spanId: expect.stringMatching(/^[0-9a-f]{16}$/),
      parentSpanId: parent.spanContext().spanId,
      name: 'psp.process',
      kind: 'client',
      role: 'transaction',
      startUs: T0 * 1e6 + 2000,
      durationUs: 3000,
      status: { code: 'error', message: 'psp_unavailable' },
      attributes: { 'rpc.system': 'nest-tcp', 'rpc.method': 'psp.process' },
      links: [{ traceId: cause.spanContext().traceId, spanId: cause.spanContext().spanId }],
    });
  });

  it('keeps only its capacity of recent spans, newest first, the oldest replaced', () => {
    const { ring, tracer } = traced({ capacity: 4 });
    for (let i = 1; i <= 10; i++) span(tracer, `span ${i}`, { atMs: i });
    expect(names(ring.query().recent)).toEqual(['span 10', 'span 9', 'span 8', 'span 7']);
    expect(names(ring.query({ limit: 2 }).recent)).toEqual(['span 10', 'span 9']);
  });

  it('keeps the slowest entry spans, slowest first, with the spans of their trace, after the ring has turned over', () => {
    const { ring, tracer } = traced({ capacity: 4, slowest: 2 });
    const slow = tracer.startSpan('GET /generator/random', { kind: SpanKind.SERVER, startTime: at(0) });
    span(tracer, 'exchange.convert', { parent: slow, kind: SpanKind.CLIENT, ms: 480 });
    slow.end(at(500));
    span(tracer, 'GET /slower', { ms: 900 });
    for (let i = 0; i < 10; i++) span(tracer, `fast ${i}`, { ms: 2 });
    const { recent, slowest } = ring.query();
    expect(names(recent)).toEqual(['fast 9', 'fast 8', 'fast 7', 'fast 6']);
    expect(names(slowest)).toEqual(['GET /slower', 'GET /generator/random']);
    expect(slowest.map((s) => s.durationUs)).toEqual([900_000, 500_000]);
    const kept = ring.query({ traceId: slow.spanContext().traceId }).recent;
    expect(names(kept).sort()).toEqual(['GET /generator/random', 'exchange.convert']);
  });

  it('drops the fastest of a full slowest set for a slower span, and ignores one not slower than the set', () => {
    const { ring, tracer } = traced({ capacity: 8, slowest: 2 });
    span(tracer, 'a', { ms: 10 });
    span(tracer, 'b', { ms: 30 });
    span(tracer, 'c', { ms: 20 });
    expect(names(ring.query().slowest)).toEqual(['b', 'c']);
    span(tracer, 'd', { ms: 20 });
    expect(names(ring.query().slowest)).toEqual(['b', 'c']);
    span(tracer, 'e', { ms: 40 });
    expect(names(ring.query().slowest)).toEqual(['e', 'b']);
  });

  it('lets a slow span go once spans end a window after it, so the set follows the present', () => {
    const { ring, tracer } = traced({ capacity: 8, slowest: 2, slowestWindowS: 60 });
    span(tracer, 'at boot', { ms: 5000 });
    span(tracer, 'early', { ms: 3000 });
    span(tracer, 'later', { atMs: 30_000, ms: 10 });
    expect(names(ring.query().slowest)).toEqual(['at boot', 'early']);
    span(tracer, 'much later', { atMs: 70_000, ms: 10 });
    expect(names(ring.query().slowest)).toEqual(['much later']);
    span(tracer, 'after that', { atMs: 71_000, ms: 20 });
    expect(names(ring.query().slowest)).toEqual(['after that', 'much later']);
  });

  it('never gives a place among the slowest to an operations request (readiness, metrics, the console), only to the ring', () => {
    const { ring, tracer } = traced({ capacity: 8, slowest: 4 });
    const server = { kind: SpanKind.SERVER, ms: 900 };
    span(tracer, 'GET /health/ready', { ...server, attributes: { 'http.route': '/health/ready' } });
    span(tracer, 'GET /spans', { ...server, attributes: { 'http.route': '/spans' } });
    span(tracer, 'platform.ping', { ...server, attributes: { 'rpc.method': 'platform.ping' } });
    span(tracer, 'GET /aboutface', { ...server, ms: 20, attributes: { 'http.route': '/aboutface' } });
    span(tracer, 'POST /transaction/transaction', {
      kind: SpanKind.SERVER,
      ms: 10,
      attributes: { 'http.route': '/transaction/transaction' },
    });
    expect(names(ring.query().slowest)).toEqual(['GET /aboutface', 'POST /transaction/transaction']);
    expect(ring.query().recent).toHaveLength(5);
  });

  it('counts only entry spans (no local parent, or server side) as slow, and a trace once', () => {
    const { ring, tracer } = traced({ capacity: 8, slowest: 4 });
    const root = tracer.startSpan('POST /transaction/transaction', {
      kind: SpanKind.SERVER,
      startTime: at(0),
    });
    span(tracer, 'SELECT', { parent: root, ms: 40 });
    span(tracer, 'auth.verify', { parent: root, kind: SpanKind.SERVER, ms: 45 });
    root.end(at(50));
    span(tracer, 'other', { ms: 1 });
    expect(names(ring.query().slowest)).toEqual(['POST /transaction/transaction', 'other']);
  });

  it("filters by trace id (with the spans of traces that link to it), by RPC method or its prefix (or an RPC span's name), by peer, and limits", () => {
    const { ring, tracer } = traced({});
    const request = span(tracer, 'POST /transaction/transaction', { kind: SpanKind.SERVER });
    const verify = { 'rpc.system': 'nest-tcp', 'rpc.service': 'auth', 'rpc.method': 'verify' };
    span(tracer, 'auth.verify', { parent: request, kind: SpanKind.CLIENT, attributes: verify });
    span(tracer, 'authz.check', {
      kind: SpanKind.CLIENT,
      attributes: { 'rpc.system': 'nest-tcp', 'rpc.method': 'authz.check' },
    });
    span(tracer, 'psp.process', {
      kind: SpanKind.CLIENT,
      attributes: { 'rpc.system': 'nest-tcp', 'rpc.method': 'psp.process', 'peer.service': 'psp' },
      links: [{ context: request.spanContext() }],
    });
    span(tracer, 'psp.refund', { kind: SpanKind.SERVER, attributes: { 'rpc.system.name': 'nestjs_tcp' } });
    span(tracer, 'unrelated');
    expect(names(ring.query({ rpcMethod: 'psp' }).recent)).toEqual(['psp.refund', 'psp.process']);
    expect(names(ring.query({ traceId: request.spanContext().traceId }).recent)).toEqual([
      'psp.process',
      'auth.verify',
      'POST /transaction/transaction',
    ]);
    expect(names(ring.query({ rpcMethod: 'auth' }).recent)).toEqual(['auth.verify']);
    expect(names(ring.query({ rpcMethod: 'auth.verify' }).recent)).toEqual(['auth.verify']);
    expect(names(ring.query({ rpcMethod: 'aut' }).recent)).toEqual([]);
    expect(names(ring.query({ peer: 'psp' }).recent)).toEqual(['psp.process']);
    expect(names(ring.query({ rpcMethod: 'psp', peer: 'auth' }).recent)).toEqual([]);
    expect(ring.query({ limit: 1 }).recent).toHaveLength(1);
  });

  it('holds nothing for the exporter: flush and shutdown settle at once', async () => {
    const { ring, provider } = traced({});
    await expect(provider.forceFlush()).resolves.toBeUndefined();
    await expect(provider.shutdown()).resolves.toBeUndefined();
    expect(ring.query()).toEqual({ recent: [], slowest: [] });
  });
});
