// Exchange + generator (seed 000) end to end, the same assertions in both topologies.
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import request from 'supertest';
import { badBodies, badUrls, conversions } from '../fixtures/exchange.js';
import { Topology, TOPOLOGIES } from '../harness/topology.js';
import { readEvents } from '../harness/sse.js';

/** POSTs a JSON body that declares `length` bytes but sends only its first kilobyte, and reads the answer. */
function declaredBody(url: string, length: number): Promise<{ status: number; body: { detail?: string } }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': length },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) });
        req.destroy();
      });
    });
    req.on('error', reject);
    req.write(`{"amount":1,"from":"EUR","to":"USD","pad":"${'x'.repeat(1000)}`);
  });
}

/**
 * Sends raw request bytes and reads everything until the server closes: the status line, headers and body. With
 * `thenSend`, the client goes on sending those chunks, 50 ms apart, once the answer has begun to arrive (as a client
 * still uploading does), and only then ends its side. Any socket error (a reset, a broken pipe) fails the exchange.
 */
function rawExchange(
  url: string,
  bytes: string,
  thenSend: string[] = [],
): Promise<{ head: string; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = connect({ port: Number(port), host: hostname, allowHalfOpen: true }, () => {
      sock.write(bytes);
      if (!thenSend.length) sock.end();
    });
    let text = '';
    sock.setEncoding('utf8');
    sock.on('data', (c: string) => {
      const first = !text;
      text += c;
      if (!first || !thenSend.length) return;
      thenSend.forEach((chunk, i) =>
        setTimeout(() => (i === thenSend.length - 1 ? sock.end(chunk) : sock.write(chunk)), 50 * (i + 1)),
      );
    });
    sock.on('error', reject);
    sock.on('close', (hadError) => {
      if (hadError) return;
      const end = text.indexOf('\r\n\r\n');
      resolve({ head: text.slice(0, end), body: text.slice(end + 4) });
    });
  });
}

describe.each(TOPOLOGIES)('exchange and generator, %s topology', (kind) => {
  let topo: Topology;
  let exchange: string;
  let generator: string;

  beforeAll(async () => {
    // Access lines (one per request, one per RPC call) are an operator's setting, on here to follow the request id.
    topo = await Topology.startKind(kind, ['exchange', 'generator'], { env: { LOG_ACCESS: 'true' } });
    exchange = topo.host('exchange').url;
    generator = topo.host('generator').url;
  });
  afterAll(() => topo?.stop());

  it.each(Object.entries(conversions))('POST /exchange converts %s', async (_name, c) => {
    const res = await request(exchange).post('/exchange').send(c.request).expect(200);
    expect(res.body).toMatchObject({ ...c.request, result: c.result });
    expect(typeof res.body.rate).toBe('number');
  });

  it('GET /exchange answers the same as POST, codes trimmed and upper-cased', async () => {
    const res = await request(exchange)
      .get('/exchange')
      .query({ amount: '100', from: ' usd', to: 'gbp ' })
      .expect(200);
    expect(res.body).toEqual({ from: 'USD', to: 'GBP', amount: 100, result: 80.19, rate: 0.801887 });
  });

  it('GET /exchange takes a JSON body the same as the query form, as the seed is called', async () => {
    const { request: body, result } = conversions.usdToGbp;
    const res = await request(exchange)
      .get('/exchange')
      .send({ ...body, from: 'usd' })
      .expect(200);
    expect(res.body).toEqual({ from: 'USD', to: 'GBP', amount: 100, result, rate: 0.801887 });
  });

  it('GET /exchange accepts the query and the body together when they agree', async () => {
    const res = await request(exchange)
      .get('/exchange')
      .query({ amount: '100.0', from: 'usd' })
      .send({ amount: 100, from: 'USD', to: 'GBP' })
      .expect(200);
    expect(res.body).toMatchObject({ from: 'USD', to: 'GBP', amount: 100, result: 80.19 });
  });

  it('GET /exchange with a query and a body that disagree is a 400 problem saying so', async () => {
    const res = await request(exchange)
      .get('/exchange')
      .query({ amount: '100', from: 'USD', to: 'GBP' })
      .send({ amount: 200, from: 'USD', to: 'EUR' });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({
      status: 400,
      code: 'conflicting_input',
      detail:
        'The query and the body disagree: amount is "100" in the query but 200 in the body; ' +
        'to is "GBP" in the query but "EUR" in the body',
      errors: [
        { field: 'amount', message: 'amount is "100" in the query but 200 in the body' },
        { field: 'to', message: 'to is "GBP" in the query but "EUR" in the body' },
      ],
    });
  });

  it.each(badBodies)('rejects $name in a GET body with a 400 problem', async ({ body, detail }) => {
    const res = await request(exchange).get('/exchange').set('content-type', 'application/json').send(body);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.detail).toMatch(detail);
  });

  it('GET /exchange/rates returns the table', async () => {
    const res = await request(exchange).get('/exchange/rates').expect(200);
    expect(res.body).toEqual({ EUR: 1, TL: 17.89, CAD: 1.34, USD: 1.06, GBP: 0.85 });
  });

  it.each(badBodies)('rejects $name with a 400 problem', async ({ body, detail }) => {
    const res = await request(exchange).post('/exchange').set('content-type', 'application/json').send(body);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 400, title: 'Bad Request' });
    expect(res.body.detail).toMatch(detail);
  });

  it('rejects an oversized body with a 400 problem, before reading it', async () => {
    // The edge answers on the declared length and closes; a client still pushing 2 MiB could see EPIPE instead of
    // the answer, so this one declares the size and sends only a little of it.
    const res = await declaredBody(`${exchange}/exchange`, 2 * 1024 * 1024);
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/larger than/);
  });

  it.each(badUrls)('answers a malformed URL %s with a 400 problem', async (url) => {
    const res = await request(exchange).get(url);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
  });

  const oversizedHead = `GET /exchange/rates HTTP/1.1\r\nhost: 127.0.0.1\r\nx-padding: ${'x'.repeat(32 * 1024)}`;
  const expect431 = (res: { head: string; body: string }) => {
    expect(res.head).toMatch(/^HTTP\/1\.1 431 /);
    expect(res.head).toMatch(/\r\ncontent-type: application\/problem\+json\r\n/i);
    expect(JSON.parse(res.body)).toMatchObject({
      status: 431,
      title: 'Request Header Fields Too Large',
      code: 'headers_too_large',
      requestId: expect.any(String),
    });
  };

  it('answers a request whose headers exceed the limit with a 431 problem', async () => {
    expect431(await rawExchange(exchange, `${oversizedHead}\r\n\r\n`));
  });

  it('lets a client still sending oversized headers read its 431 and close cleanly, never reset', async () => {
    // Without the lingering close the server's socket is gone when the later chunks arrive: a reset, EPIPE here.
    expect431(
      await rawExchange(exchange, oversizedHead, ['y'.repeat(16 * 1024), `${'y'.repeat(16 * 1024)}\r\n\r\n`]),
    );
  });

  it('rejects bad query input on GET /exchange', async () => {
    const res = await request(exchange)
      .get('/exchange')
      .query({ amount: 'x', from: 'EUR', to: 'USD' })
      .expect(400);
    expect(res.body.detail).toMatch(/amount must be a number/);
  });

  it('GET /generator/random converts a random draw through the exchange', async () => {
    const codes = Object.keys(conversions.usdToGbp.request).length && ['EUR', 'TL', 'CAD', 'USD', 'GBP'];
    for (let i = 0; i < 5; i++) {
      const res = await request(generator).get('/generator/random').expect(200);
      const { from, to, amount, result, rate, timestamp } = res.body;
      expect(codes).toContain(from);
      expect(codes).toContain(to);
      expect(amount).toBeGreaterThanOrEqual(10);
      expect(amount).toBeLessThan(10000);
      expect(Math.round(amount * 100) / 100).toBe(amount);
      expect(new Date(timestamp).toISOString()).toBe(timestamp);
      // The generator's answer is the exchange's answer for the same request.
      const check = await request(exchange).post('/exchange').send({ amount, from, to }).expect(200);
      expect({ result, rate }).toEqual({ result: check.body.result, rate: check.body.rate });
    }
  });

  it('streams every conversion on /exchange/stream, whoever asked', async () => {
    const events = readEvents(`${exchange}/exchange/stream`);
    await events.connected;
    await request(exchange).post('/exchange').send(conversions.eurToTl.request).expect(200);
    const viaGenerator = await request(generator).get('/generator/random').expect(200);
    const seen = await events.take(2);
    events.close();
    expect(seen.map((e) => e.event)).toEqual(['conversion', 'conversion']);
    expect(seen[0].data).toMatchObject({ from: 'EUR', to: 'TL', result: 1789 });
    expect(seen[1].data).toMatchObject({ from: viaGenerator.body.from, amount: viaGenerator.body.amount });
  });

  it('the request id follows a call from the generator to the exchange and into both logs', async () => {
    const requestId = `e2e-${kind}-${Date.now()}`;
    const res = await request(generator).get('/generator/random').set('x-request-id', requestId).expect(200);
    expect(res.headers['x-request-id']).toBe(requestId);
    const gen = topo.host('generator');
    const exch = topo.host('exchange');
    await gen.waitForLog((l) => l.requestId === requestId && l.msg === 'request completed');
    await exch.waitForLog(
      (l) => l.requestId === requestId && l.msg === 'rpc handled' && l.pattern === 'exchange.convert',
    );
  });
});

describe('generator ticking (GENERATOR_TICK_MS)', () => {
  it('pushes random conversions to the exchange by itself, visible on the stream', async () => {
    const topo = await Topology.start([
      { role: 'exchange' },
      { role: 'generator', env: { GENERATOR_TICK_MS: '100' } },
    ]);
    try {
      const events = readEvents(`${topo.get('exchange').url}/exchange/stream`);
      await events.connected;
      const seen = await events.take(3);
      events.close();
      for (const e of seen)
        expect(e.data).toMatchObject({ result: expect.any(Number), rate: expect.any(Number) });
    } finally {
      expect(await topo.stop()).toEqual({ exchange: 0, generator: 0 });
    }
  });
});

describe('shutdown with a stream open', () => {
  it('ends the /exchange/stream response on SIGTERM and exits 0 instead of waiting out the grace period', async () => {
    const topo = await Topology.start([{ role: 'exchange' }]);
    const exchange = topo.get('exchange');
    const events = readEvents(`${exchange.url}/exchange/stream`);
    try {
      await events.connected;
      exchange.signal('SIGTERM');
      expect(await exchange.wait()).toBe(0);
      expect(exchange.logs().some((l) => l.msg === 'shutdown grace period exceeded; exiting')).toBe(false);
    } finally {
      events.close();
      await topo.stop();
    }
  });
});
