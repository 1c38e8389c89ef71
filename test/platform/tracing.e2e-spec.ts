// W3C trace context across real processes, checked on what the exporters really send (a local OTLP/HTTP receiver
// decoding protobuf and JSON): one trace per request across roles, parent/child ids and span kinds, a caller's
// traceparent continued, and malformed or oversized trace context ignored at every edge.
import * as grpc from '@grpc/grpc-js';
import request from 'supertest';
import { TcpConnection } from '../../src/platform/transport/tcp-connection.js';
import { mathHelperClient } from '../calculator/calculator.clients.js';
import { post, secrets, tokenOf, users } from '../payments/payments.fixtures.js';
import { OtlpKind, OtlpReceiver, type ReceivedSpan } from '../harness/otlp-receiver.js';
import { freePort } from '../harness/ports.js';
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
      env: { ...exportEnv(receiver, 'http/protobuf'), LOG_ACCESS: 'true' },
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
    // The call's log lines carry its trace and span ids beside the request id.
    const line = await topo
      .get('exchange')
      .waitForLog((l) => l.msg === 'rpc handled' && l.requestId === 'tcp-good');
    expect(line).toMatchObject({ trace_id: outside.traceId, span_id: continued.spanId });
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
    // The event-store flush that wrote the call's events later links back to the call, and its SQL is its child.
    const flush = await receiver.waitForSpan(
      (s) => s.name === 'event store flush' && s.links.some((l) => l.spanId === continued.spanId),
    );
    expect(flush).toMatchObject({ service: 'calculator', parentSpanId: '' });
    expect(flush.links.find((l) => l.spanId === continued.spanId)?.traceId).toBe(outside.traceId);
    const insert = await receiver.waitForSpan((s) => s.parentSpanId === flush.spanId);
    expect(insert.attributes['db.system.name']).toBe('postgresql');
    await receiver.waitForSpan(
      () =>
        receiver.spans.filter((x) => x.name === 'MathHelper/Factorial' && x.parentSpanId === '').length >= 4,
    );
    const roots = receiver.spans.filter((s) => s.name === 'MathHelper/Factorial' && s.parentSpanId === '');
    for (const s of roots) expect(s.traceId).not.toBe(outside.traceId);
  });
});

describe('work that runs later joins the request that caused it (multi topology)', () => {
  let receiver: OtlpReceiver;
  let topo: Topology;

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    topo = await Topology.start(
      [{ role: 'auth' }, { role: 'transaction' }, { role: 'psp' }, { role: 'master' }],
      { env: { ...exportEnv(receiver, 'http/protobuf'), JWT_SECRET: secrets.jwt }, readyTimeoutMs: 120_000 },
    );
  }, 180_000);

  afterAll(async () => {
    await topo?.stop();
    await receiver?.close();
  });

  it('a payment: HTTP -> auth.verify, its SQL statements, and the outbox delivery -> psp.process in its trace', async () => {
    const token = await tokenOf(topo.get('auth').url, users.alice);
    const traceId = 'a1'.repeat(16);
    const paid = await post(
      `${topo.get('transaction').url}/transaction/transaction`,
      { amount: 12.5, currency: 'EUR', token },
      { traceparent: `00-${traceId}-${'b2'.repeat(8)}-01` },
    );
    expect(paid.status).toBe(200);
    await receiver.waitForSpan(
      (s) => s.traceId === traceId && s.name === 'psp.process' && s.kind === OtlpKind.SERVER,
    );
    await receiver.waitForSpan((s) => s.traceId === traceId && s.name === 'outbox deliver');
    await receiver.waitForSpan((s) => s.traceId === traceId && /^POST /.test(s.name));
    const spans = receiver.trace(traceId);

    const http = spans.find((s) => /^POST \/transaction\/transaction/.test(s.name))!;
    expect(http).toMatchObject({
      kind: OtlpKind.SERVER,
      parentSpanId: 'b2'.repeat(8),
      service: 'transaction',
    });
    const verify = byName(spans, 'auth.verify', OtlpKind.SERVER);
    expect(verify.service).toBe('auth');
    const sql = spans.filter((s) => s.attributes['db.system.name'] === 'postgresql');
    expect(sql.length).toBeGreaterThan(0);
    for (const s of sql) {
      expect(s.kind).toBe(OtlpKind.CLIENT);
      expect(typeof s.attributes['db.query.text']).toBe('string');
    }
    expect(sql.map((s) => s.service)).toContain('transaction');

    const delivery = byName(spans, 'outbox deliver', OtlpKind.PRODUCER);
    expect(delivery.service).toBe('transaction');
    expect(delivery.attributes).toMatchObject({
      'messaging.system': 'outbox',
      'messaging.destination.name': 'psp.process',
    });
    const client = spans.find((s) => s.name === 'psp.process' && s.kind === OtlpKind.CLIENT)!;
    expect(client.parentSpanId).toBe(delivery.spanId);
    expect(byName(spans, 'psp.process', OtlpKind.SERVER)).toMatchObject({
      parentSpanId: client.spanId,
      service: 'psp',
    });
  });

  it("a failed auth.verify: the client span is an error with the problem's code", async () => {
    const traceId = 'c3'.repeat(16);
    const refused = await post(
      `${topo.get('transaction').url}/transaction/transaction`,
      { amount: 1, currency: 'EUR', token: 'not-a-token' },
      { traceparent: `00-${traceId}-${'d4'.repeat(8)}-01` },
    );
    expect(refused.status).toBe(401);
    const client = await receiver.waitForSpan(
      (s) => s.traceId === traceId && s.name === 'auth.verify' && s.kind === OtlpKind.CLIENT,
    );
    expect(client.statusCode).toBe(2);
    expect(typeof client.attributes['error.type']).toBe('string');
    const http = await receiver.waitForSpan(
      (s) => s.traceId === traceId && s.kind === OtlpKind.SERVER && /^POST /.test(s.name),
    );
    // A 4xx answer is the caller's problem: the server span records the code but keeps its status unset.
    expect(http.attributes['http.response.status_code']).toBe(401);
    expect(http.attributes['error.type']).toBe(client.attributes['error.type']);
    expect(http.statusCode).toBe(0);
  });

  it("the master's child: spawned with TRACEPARENT, its reports land in the creating request's trace", async () => {
    const traceId = 'e5'.repeat(16);
    const created = await request(topo.get('master').url)
      .post('/master/create-child')
      .set('traceparent', `00-${traceId}-${'f6'.repeat(8)}-01`)
      .send({ count: 50 })
      .expect(202);
    expect(created.body.id).toEqual(expect.any(String));
    const report = await receiver.waitForSpan(
      (s) => s.traceId === traceId && s.name === 'master.report' && s.kind === OtlpKind.SERVER,
      30_000,
    );
    expect(report.service).toBe('master');
    // The child's own spans come in the child's export, which may reach the receiver after the master's.
    await receiver.waitForSpan(
      (s) => s.traceId === traceId && s.name === 'child job' && s.kind === OtlpKind.INTERNAL,
      30_000,
    );
    const spans = receiver.trace(traceId);
    const spawn = byName(spans, 'spawn child', OtlpKind.INTERNAL);
    const job = byName(spans, 'child job', OtlpKind.INTERNAL);
    expect(job).toMatchObject({ parentSpanId: spawn.spanId, service: 'child' });
    const client = spans.find((s) => s.spanId === report.parentSpanId)!;
    expect(client).toMatchObject({ kind: OtlpKind.CLIENT, service: 'child', parentSpanId: job.spanId });
  });
});

describe('a collector that cannot be reached', () => {
  it('costs a warning line, not a failed request', async () => {
    const closed = await freePort();
    const topo = await Topology.start([
      { role: 'exchange', env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${closed}` } },
    ]);
    try {
      for (let i = 0; i < 3; i++)
        await request(topo.get('exchange').url)
          .post('/exchange')
          .send({ amount: 1, from: 'EUR', to: 'USD' })
          .expect(200);
      const warning = await topo
        .get('exchange')
        .waitForLog((l) => l.level === 'warn' && /span export failed/.test(String(l.msg)), 30_000);
      expect(warning.component).toBe('tracing');
      await request(topo.get('exchange').url)
        .post('/exchange')
        .send({ amount: 1, from: 'EUR', to: 'USD' })
        .expect(200);
    } finally {
      expect(await topo.stop()).toEqual({ exchange: 0 });
    }
  });
});
