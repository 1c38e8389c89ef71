// W3C trace context across real processes, checked on what the exporters really send (a local OTLP/HTTP receiver
// decoding protobuf and JSON): one trace per request across roles, parent/child ids and span kinds, a caller's
// traceparent continued, and malformed or oversized trace context ignored at every edge.
import * as grpc from '@grpc/grpc-js';
import request from 'supertest';
import { TcpConnection } from '../../src/platform/transport/tcp-connection.js';
import { mathHelperClient } from '../calculator/calculator.clients.js';
import { OtlpKind, OtlpReceiver, type ReceivedSpan } from '../harness/otlp-receiver.js';
import { testClientTls, Topology } from '../harness/topology.js';

const outside = {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  get traceparent() {
    return `00-${this.traceId}-${this.spanId}-01`;
  },
};

/** Trace-context values a caller may send that must be ignored: a new trace starts, the call is answered. */
const badTraceparents = {
  garbage: 'not-a-traceparent',
  zeroTraceId: `00-${'0'.repeat(32)}-${outside.spanId}-01`,
  versionFf: `ff-${outside.traceId}-${outside.spanId}-01`,
  oversized: `01-${outside.traceId}-${outside.spanId}-01-${'a'.repeat(4000)}`,
};
const oversizedTracestate = Array.from({ length: 100 }, (_, i) => `vendor${i}=${'v'.repeat(40)}`).join(',');

function exportEnv(receiver: OtlpReceiver, protocol: 'http/protobuf' | 'http/json'): Record<string, string> {
  return { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: protocol };
}

const byName = (spans: ReceivedSpan[], name: string, kind: number) => {
  const span = spans.find((s) => s.name === name && s.kind === kind);
  if (!span)
    throw new Error(`no ${name} span of kind ${kind} in ${JSON.stringify(spans.map((s) => s.name))}`);
  return span;
};

describe.each([
  ['multi', 'http/protobuf'],
  ['single', 'http/json'],
] as const)('a request across roles (%s topology, %s)', (kind, protocol) => {
  let receiver: OtlpReceiver;
  let topo: Topology;

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    topo =
      kind === 'multi'
        ? await Topology.start([{ role: 'exchange' }, { role: 'generator' }], {
            env: exportEnv(receiver, protocol),
          })
        : await Topology.start([{ name: 'all', role: 'exchange,generator' }], {
            env: exportEnv(receiver, protocol),
          });
  });

  afterAll(async () => {
    await topo?.stop();
    await receiver?.close();
  });

  it("continues the caller's traceparent: HTTP server -> RPC client -> RPC server, one trace", async () => {
    await request(topo.host('generator').url)
      .get('/generator/random')
      .set('traceparent', outside.traceparent)
      .set('tracestate', 'vendor=opaque')
      .expect(200);
    await receiver.waitForSpan(
      (s) => s.traceId === outside.traceId && s.kind === OtlpKind.SERVER && s.name === 'exchange.convert',
    );
    await receiver.waitForSpan((s) => s.traceId === outside.traceId && s.name === 'GET /generator/random');
    const spans = receiver.trace(outside.traceId);

    const http = byName(spans, 'GET /generator/random', OtlpKind.SERVER);
    const client = byName(spans, 'exchange.convert', OtlpKind.CLIENT);
    const server = byName(spans, 'exchange.convert', OtlpKind.SERVER);
    expect(http.parentSpanId).toBe(outside.spanId);
    expect(http.traceState).toBe('vendor=opaque');
    expect(client.parentSpanId).toBe(http.spanId);
    expect(server.parentSpanId).toBe(client.spanId);
    expect(http.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/generator/random',
      'url.path': '/generator/random',
      'http.response.status_code': 200,
    });
    expect(client.attributes).toMatchObject({
      'rpc.system.name': 'nestjs_tcp',
      'rpc.method': 'exchange.convert',
    });
    expect(new Set(spans.map((s) => s.encoding))).toEqual(
      new Set([protocol === 'http/json' ? 'json' : 'protobuf']),
    );
    if (kind === 'multi') {
      expect(http.service).toBe('generator');
      expect(server.service).toBe('exchange');
    } else {
      expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['exchange,generator']));
    }
  });

  it('starts a new trace for a malformed or oversized traceparent, and answers as usual', async () => {
    for (const [label, traceparent] of Object.entries(badTraceparents)) {
      const res = await request(topo.host('exchange').url)
        .post('/exchange')
        .set('traceparent', traceparent)
        .set('x-request-id', `bad-tp-${kind}-${label}`)
        .send({ amount: 1, from: 'EUR', to: 'USD' });
      expect(res.status).toBe(200);
    }
    const res = await request(topo.host('exchange').url)
      .post('/exchange')
      .set('traceparent', outside.traceparent.replace(outside.spanId, '1111111111111111'))
      .set('tracestate', oversizedTracestate)
      .send({ amount: 1, from: 'EUR', to: 'USD' });
    expect(res.status).toBe(200);

    const fresh = await receiver.waitForSpan(
      (s) => s.parentSpanId === '1111111111111111' && s.name === 'POST /exchange',
    );
    // The traceparent is kept; the oversized tracestate is dropped.
    expect(fresh.traceId).toBe(outside.traceId);
    expect(fresh.traceState).toBe('');
    const posts = receiver.spans.filter((s) => s.name === 'POST /exchange' && s.parentSpanId === '');
    expect(posts.length).toBeGreaterThanOrEqual(Object.keys(badTraceparents).length);
    for (const s of posts) expect(s.traceId).not.toBe(outside.traceId);
  });
});

describe('trace context at the other edges (multi topology)', () => {
  let receiver: OtlpReceiver;
  let topo: Topology;

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    topo = await Topology.start([{ role: 'exchange' }, { role: 'calculator' }], {
      env: exportEnv(receiver, 'http/protobuf'),
    });
  });

  afterAll(async () => {
    await topo?.stop();
    await receiver?.close();
  });

  it('Nest TCP: a packet whose metadata carries a traceparent continues it; a bad one starts a new trace', async () => {
    const conn = new TcpConnection({
      host: '127.0.0.1',
      port: topo.get('exchange').tcpPort,
      maxMessageChars: 1_000_000,
      tls: testClientTls('generator'),
    });
    conn.start();
    try {
      const payload = { amount: 1, from: 'EUR', to: 'USD' };
      await expect(
        conn.send(
          'exchange.convert',
          payload,
          { requestId: 'tcp-good', traceparent: outside.traceparent },
          5000,
        ),
      ).resolves.toMatchObject({ result: 1.06 });
      for (const traceparent of Object.values(badTraceparents))
        await expect(
          conn.send('exchange.convert', payload, { traceparent, tracestate: oversizedTracestate }, 5000),
        ).resolves.toMatchObject({ result: 1.06 });
      // Not even a string: ignored as well.
      await expect(
        conn.send('exchange.convert', payload, { traceparent: 42 } as never, 5000),
      ).resolves.toMatchObject({ result: 1.06 });
    } finally {
      await conn.close();
    }
    const continued = await receiver.waitForSpan(
      (s) => s.name === 'exchange.convert' && s.traceId === outside.traceId,
    );
    expect(continued).toMatchObject({
      kind: OtlpKind.SERVER,
      parentSpanId: outside.spanId,
      service: 'exchange',
    });
    await receiver.waitForSpan(
      (s) =>
        s.name === 'exchange.convert' &&
        s.parentSpanId === '' &&
        receiver.spans.filter((x) => x.name === 'exchange.convert' && x.parentSpanId === '').length >= 5,
    );
    const roots = receiver.spans.filter((s) => s.name === 'exchange.convert' && s.parentSpanId === '');
    for (const s of roots) expect(s.traceId).not.toBe(outside.traceId);
  });

  it('gRPC: traceparent metadata is continued; a malformed or oversized one starts a new trace', async () => {
    const client = mathHelperClient(Number(topo.get('calculator').env.GRPC_PORT));
    const call = (md: Record<string, string>) =>
      new Promise<unknown>((resolve, reject) => {
        const metadata = new grpc.Metadata();
        for (const [k, v] of Object.entries(md)) metadata.set(k, v);
        client.Factorial({ base: '5' }, metadata, (err, res) => (err ? reject(err) : resolve(res)));
      });
    try {
      await expect(call({ traceparent: outside.traceparent })).resolves.toMatchObject({ result: '120' });
      for (const traceparent of Object.values(badTraceparents))
        await expect(call({ traceparent, tracestate: oversizedTracestate })).resolves.toMatchObject({
          result: '120',
        });
    } finally {
      client.close();
    }
    const continued = await receiver.waitForSpan(
      (s) => s.name === 'MathHelper/Factorial' && s.traceId === outside.traceId,
    );
    expect(continued).toMatchObject({
      kind: OtlpKind.SERVER,
      parentSpanId: outside.spanId,
      service: 'calculator',
    });
    expect(continued.attributes).toMatchObject({
      'rpc.system.name': 'grpc',
      'rpc.method': 'MathHelper/Factorial',
    });
    await receiver.waitForSpan(
      () =>
        receiver.spans.filter((x) => x.name === 'MathHelper/Factorial' && x.parentSpanId === '').length >= 4,
    );
    const roots = receiver.spans.filter((s) => s.name === 'MathHelper/Factorial' && s.parentSpanId === '');
    for (const s of roots) expect(s.traceId).not.toBe(outside.traceId);
  });
});
