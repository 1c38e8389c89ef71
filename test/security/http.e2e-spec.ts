// Attacks on the HTTP edge, tried for real against a started role: once with production settings (the operator's
// token set, every part booted) and once with the development defaults. Each `it` names what it tries; each
// would pass through if the protection it checks were taken out.
import { createHmac } from 'node:crypto';
import { connect } from 'node:net';
import { Browser } from '../harness/browser.js';
import { readEvents } from '../harness/sse.js';
import { Topology, type RoleProcess } from '../harness/topology.js';

const secrets = {
  jwt: 'security-e2e-jwt-secret-0123456789abcdef-0123',
  operator: 'security-e2e-operator-token-0123456789abcdef',
};
const alice = { username: 'alice', password: 'password', id: 1 };
const TTL_S = 300;

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
/** A token signed with the deployment's REAL secret: only its claims (or header) are wrong. */
function forge(claims: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const head = `${b64({ alg: 'HS256', typ: 'JWT', ...header })}.${b64(claims)}`;
  return `${head}.${createHmac('sha256', secrets.jwt).update(head).digest('base64url')}`;
}
const nowS = () => Math.floor(Date.now() / 1000);
/** The claims auth itself issues to alice, now. */
const aliceClaims = () => ({
  user_id: alice.id,
  username: alice.username,
  enabled: true,
  sub: String(alice.id),
  iss: 'polyrole-auth',
  aud: 'polyrole',
  iat: nowS(),
  exp: nowS() + TTL_S,
});

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, text, body };
}

const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const operator = bearer(secrets.operator);

/** Only the headers of a stream: the request is cut once they are in. */
async function streamHeaders(url: string, headers: Record<string, string> = {}): Promise<Headers> {
  const abort = new AbortController();
  const res = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: abort.signal,
  });
  abort.abort();
  await res.body?.cancel().catch(() => undefined);
  expect(res.status).toBe(200);
  return res.headers;
}

/** What Node's parser refuses before any request exists (headers over its limit), read off the socket. */
function rawAnswerToOversizedHeaders(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    socket.on('data', (d) => (got += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(got));
    socket.write(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
  });
}

function expectSecurityHeaders(headers: Headers, what: string): void {
  expect({
    what,
    nosniff: headers.get('x-content-type-options'),
    referrer: headers.get('referrer-policy'),
  }).toEqual({ what, nosniff: 'nosniff', referrer: 'no-referrer' });
}

/** Requests a page's script or form can send to another site without a CORS preflight. */
const crossSite: Array<{ name: string; init: RequestInit; status: number; code: string }> = [
  {
    name: 'an empty form post',
    init: { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' },
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'a text/plain post holding JSON',
    init: { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"count":1}' },
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'a JSON post the browser marks Sec-Fetch-Site: cross-site',
    init: json({ count: 1 }, { 'sec-fetch-site': 'cross-site' }),
    status: 403,
    code: 'cross_site_request',
  },
  {
    name: 'a body-less post from another origin',
    init: { method: 'POST', headers: { origin: 'http://attacker.example' } },
    status: 403,
    code: 'cross_site_request',
  },
];

describe('HTTP security with production settings', () => {
  let topo: Topology;
  let prod: RoleProcess;
  let url: string;
  let token: string;

  beforeAll(async () => {
    topo = await Topology.start([
      {
        name: 'prod',
        role: 'all',
        env: {
          NODE_ENV: 'production',
          JWT_SECRET: secrets.jwt,
          JWT_TTL_S: String(TTL_S),
          AUTH_SEED_DEMO_USERS: 'true',
          CONSOLE_ENABLED: 'true',
          CONSOLE_TOKEN: secrets.operator,
          MASTER_START_RATE_LIMIT: '2/1m',
          CALCULATOR_WATCH_IPS: '127.0.0.0/8',
        },
      },
    ]);
    prod = topo.get('prod');
    url = prod.url;
    const login = await call(
      `${url}/auth/token`,
      json({ username: alice.username, password: alice.password }),
    );
    expect(login.status).toBe(200);
    token = login.body.token;
  });
  afterAll(async () => {
    const codes = await topo?.stop();
    expect(codes).toEqual({ prod: 0 });
  });

  describe('starting and stopping children', () => {
    const writes = [
      { method: 'POST', path: '/master/create-child' },
      { method: 'POST', path: '/master/children' },
      { method: 'DELETE', path: '/master/children/c1-nobody' },
      { method: 'POST', path: '/console/api/master/children' },
      { method: 'DELETE', path: '/console/api/master/children/c1-nobody' },
    ];

    it.each(writes)('refuses $method $path without the operator token, or with a user token', async (w) => {
      for (const auth of [{}, bearer('not-the-operator-token-0123456789abcdef'), bearer(token)]) {
        const res = await call(`${url}${w.path}`, { method: w.method, headers: auth });
        expect(res.status).toBe(401);
        expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(res.headers.get('www-authenticate')).toBe('Bearer');
      }
    });

    it.each(crossSite)('refuses $name even with the operator token', async ({ init, status, code }) => {
      for (const path of ['/master/create-child', '/console/api/master/children']) {
        const res = await call(`${url}${path}`, {
          ...init,
          headers: { ...(init.headers as Record<string, string>), ...operator },
        });
        expect({ path, status: res.status, code: res.body?.code }).toEqual({ path, status, code });
      }
    });

    it('starts children with the operator token, up to MASTER_START_RATE_LIMIT per client, then 429 with Retry-After', async () => {
      const start = () => call(`${url}/master/create-child`, json({ count: 1 }, operator));
      const started = [await start(), await start()];
      expect(started.map((r) => r.status)).toEqual([202, 202]);
      const limited = await start();
      expect(limited.status).toBe(429);
      expect(limited.body.code).toBe('child_start_rate_limited');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      for (const c of started) {
        const stop = await call(`${url}/master/children/${c.body.id}`, {
          method: 'DELETE',
          headers: operator,
        });
        expect([200, 202]).toContain(stop.status);
      }
    });
  });

  describe('operations endpoints', () => {
    const paths = ['/metrics', '/about', '/docs', '/docs-json', '/docs/swagger-ui-init.js'];

    it.each(paths)('refuses %s without the operator token, and serves it with the token', async (path) => {
      for (const auth of [{}, bearer(token)]) {
        const res = await call(`${url}${path}`, { headers: auth });
        expect({ path, status: res.status, code: res.body?.code }).toEqual({
          path,
          status: 401,
          code: 'operator_token_required',
        });
      }
      expect((await call(`${url}${path}`, { headers: operator })).status).toBe(200);
    });

    it('keeps the client addresses of the calculator event log to the operator', async () => {
      const done = await call(
        `${url}/calculator/factorial`,
        json({ base: 3 }, { 'x-request-id': 'sec-ip-1' }),
      );
      expect(done.status).toBe(200);
      // The log is written in batches: read until the request's event is in.
      const requested = async (headers: Record<string, string>) => {
        for (const deadline = Date.now() + 10_000; ;) {
          const page = await call(`${url}/calculator/events?limit=100`, { headers });
          const event = page.body.events.find(
            (e: { requestId: string; type: string }) =>
              e.requestId === 'sec-ip-1' && e.type === 'CalculationRequested',
          );
          if (event || Date.now() > deadline) return { event, text: page.text };
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      const publicView = await requested({});
      expect(publicView.event.payload).toEqual(expect.objectContaining({ method: 'factorial' }));
      expect(publicView.event.payload.clientIp).toBeUndefined();
      expect(publicView.text).not.toContain('127.0.0.1');
      expect((await requested(operator)).event.payload.clientIp).toBe('127.0.0.1');
    });
  });

  it('keeps the client address of a watched-address notice to the operator', async () => {
    const publicStream = readEvents(`${url}/calculator/notifications`);
    const operatorStream = readEvents(`${url}/calculator/notifications`, operator);
    try {
      await Promise.all([publicStream.connected, operatorStream.connected]);
      const done = await call(
        `${url}/calculator/factorial`,
        json({ base: 3 }, { 'x-request-id': 'sec-ip-2' }),
      );
      expect(done.status).toBe(200);
      const [[seen], [told]] = await Promise.all([publicStream.take(1), operatorStream.take(1)]);
      expect(seen).toEqual({
        event: 'ClientWatched',
        data: expect.objectContaining({ requestId: 'sec-ip-2', rule: '127.0.0.0/8' }),
      });
      expect(seen.data).not.toHaveProperty('clientIp');
      expect(told.data).toEqual(expect.objectContaining({ requestId: 'sec-ip-2', clientIp: '127.0.0.1' }));
    } finally {
      publicStream.close();
      operatorStream.close();
    }
  });

  describe('tokens signed with the real secret', () => {
    const pay = (tokenInBody: string, headers: Record<string, string> = {}) =>
      call(
        `${url}/transaction/transaction`,
        json({ amount: 1, currency: 'USD', token: tokenInBody }, headers),
      );

    it('accepts a forged token whose claims are the ones auth issues (the control for the table below)', async () => {
      expect((await pay(forge(aliceClaims()))).status).toBe(200);
    });

    it.each([
      ['valid for 100 years', () => ({ ...aliceClaims(), exp: nowS() + 100 * 365 * 86_400 })],
      [
        'issued an hour in the future',
        () => ({ ...aliceClaims(), iat: nowS() + 3600, exp: nowS() + 3600 + 60 }),
      ],
      ['for user_id -1', () => ({ ...aliceClaims(), user_id: -1, sub: '-1' })],
      ['for user_id 0', () => ({ ...aliceClaims(), user_id: 0, sub: '0' })],
      ['from another issuer', () => ({ ...aliceClaims(), iss: 'https://attacker.example' })],
      ['for another audience', () => ({ ...aliceClaims(), aud: 'another-service' })],
      ['without iss and aud', () => ({ ...aliceClaims(), iss: undefined, aud: undefined })],
    ])('refuses a token %s with 401 token_invalid', async (_what, claims) => {
      const forged = forge(claims());
      for (const res of [
        await pay(forged),
        await call(`${url}/transaction/transaction/00000000-0000-4000-8000-000000000000`, {
          headers: bearer(forged),
        }),
      ]) {
        expect({ status: res.status, code: res.body.code }).toEqual({ status: 401, code: 'token_invalid' });
      }
    });

    it('refuses a token with an unknown critical header with 401 token_invalid', async () => {
      const res = await pay(forge(aliceClaims(), { crit: ['x-polyrole-never'], 'x-polyrole-never': 1 }));
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 401, code: 'token_invalid' });
    });

    it('refuses a body token and a different Authorization token with 400 token_conflict', async () => {
      const other = forge({ ...aliceClaims(), iat: nowS() - 1 });
      const res = await pay(token, bearer(other));
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: 'token_conflict' });
      expect((await pay(token, bearer(token))).status).toBe(200);
    });

    it('refuses a form-encoded payment with 415', async () => {
      const res = await call(`${url}/transaction/transaction`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ amount: '1', currency: 'USD', token }).toString(),
      });
      expect({ status: res.status, code: res.body.code }).toEqual({
        status: 415,
        code: 'unsupported_media_type',
      });
    });
  });

  describe('headers', () => {
    it('puts nosniff and no-referrer on every kind of answer', async () => {
      const answers: Array<[string, Headers]> = [
        ['JSON', (await call(`${url}/exchange/rates`)).headers],
        ['text', (await call(`${url}/`)).headers],
        ['problem', (await call(`${url}/exchange`, { ...json({}), body: '{"broken' })).headers],
        ['not found', (await call(`${url}/no/such/route`)).headers],
        ['guarded refusal', (await call(`${url}/metrics`)).headers],
        ['console page', (await call(`${url}/console`, { headers: operator })).headers],
        ['console asset', (await call(`${url}/console/assets/console.js`, { headers: operator })).headers],
        ['docs page', (await call(`${url}/docs`, { headers: operator })).headers],
        ['docs asset', (await call(`${url}/docs/swagger-ui.css`, { headers: operator })).headers],
        ['SSE', await streamHeaders(`${url}/exchange/stream`)],
        ['console SSE relay', await streamHeaders(`${url}/console/api/streams/exchange`, operator)],
      ];
      for (const [what, headers] of answers) expectSecurityHeaders(headers, what);
    });

    it('puts them on the answer written before a request exists (headers too large)', async () => {
      const raw = await rawAnswerToOversizedHeaders(prod.httpPort);
      expect(raw).toMatch(/^HTTP\/1\.1 431 /);
      expect(raw).toMatch(/\r\nX-Content-Type-Options: nosniff\r\n/i);
      expect(raw).toMatch(/\r\nReferrer-Policy: no-referrer\r\n/i);
    });

    it("gives the console and the docs pages a CSP that forbids framing, plugins, <base> and others' scripts", async () => {
      for (const path of ['/console', '/docs']) {
        const csp = (await call(`${url}${path}`, { headers: operator })).headers.get(
          'content-security-policy',
        );
        for (const directive of [
          "default-src 'self'",
          "frame-ancestors 'none'",
          "object-src 'none'",
          "base-uri 'none'",
        ])
          expect({ path, csp }).toEqual({ path, csp: expect.stringContaining(directive) });
        expect(csp).not.toMatch(/script-src/);
      }
    });

    it('marks token and per-user answers Cache-Control: no-store', async () => {
      const login = await call(
        `${url}/auth/token`,
        json({ username: alice.username, password: alice.password }),
      );
      const paid = await call(
        `${url}/transaction/transaction`,
        json({ amount: 2, currency: 'EUR' }, bearer(token)),
      );
      const read = await call(`${url}/transaction/transaction/${paid.body.id}`, { headers: bearer(token) });
      const stats = await call(`${url}/transaction/stats`, { headers: operator });
      for (const [what, res] of Object.entries({ login, paid, read, stats })) {
        expect({ what, status: res.status, cache: res.headers.get('cache-control') }).toEqual({
          what,
          status: 200,
          cache: 'no-store',
        });
      }
    });
  });

  describe('the console session cookie', () => {
    const signIn = () => call(`${url}/console/session`, { method: 'POST', headers: operator });
    const cookieOf = (res: Answer) => res.headers.get('set-cookie') ?? '';

    it('is random, expires, is Secure and HttpOnly, and is sent to /console only', async () => {
      const answer = await signIn();
      // A credential: no cache keeps the answer that carries it.
      expect(answer.headers.get('cache-control')).toBe('no-store');
      const [first, second] = [cookieOf(answer), cookieOf(await signIn())];
      expect(first.split(';')[0]).not.toBe(second.split(';')[0]);
      expect(first).not.toContain(secrets.operator);
      for (const attribute of [
        /; Path=\/console(;|$)/,
        /; Max-Age=\d+/,
        /; HttpOnly/,
        /; SameSite=Strict/,
        /; Secure/,
      ])
        expect(first).toMatch(attribute);
      expect((await call(`${url}/console`, { headers: { cookie: first.split(';')[0] } })).status).toBe(200);
    });

    it('is refused once its expiry is changed (the seal covers it)', async () => {
      const value = cookieOf(await signIn()).split(';')[0];
      const [name, sealed] = value.split('=');
      const [nonce, exp, mac] = sealed.split('.');
      const stretched = `${name}=${nonce}.${Number(exp) + 86_400 * 365}.${mac}`;
      expect((await call(`${url}/console`, { headers: { cookie: stretched } })).status).toBe(401);
    });

    it.each(['constructor', '__proto__', 'toString'])(
      'finds no console asset or stream named %s',
      async (name) => {
        for (const path of [`/console/assets/${name}`, `/console/api/streams/${name}`]) {
          const res = await call(`${url}${path}`, { headers: operator });
          expect({ path, status: res.status }).toEqual({ path, status: 404 });
        }
      },
    );
  });
});

describe('HTTP security with development defaults', () => {
  let topo: Topology;
  let url: string;

  beforeAll(async () => {
    topo = await Topology.start([
      {
        name: 'dev',
        role: 'exchange,master',
        // The harness runs NODE_ENV=test; these are `npm start`'s defaults, with the console token set only so
        // its cookie can be checked over plain HTTP.
        env: { NODE_ENV: 'development', CONSOLE_TOKEN: secrets.operator },
      },
    ]);
    url = topo.get('dev').url;
  });
  afterAll(async () => {
    const codes = await topo?.stop();
    expect(codes).toEqual({ dev: 0 });
  });

  it.each(crossSite)('refuses $name to /master and to the console copy', async ({ init, status, code }) => {
    for (const path of ['/master/create-child', '/master/children', '/console/api/master/children']) {
      const res = await call(`${url}${path}`, {
        ...init,
        headers: {
          ...(init.headers as Record<string, string>),
          ...(path.startsWith('/console') ? operator : {}),
        },
      });
      expect({ path, status: res.status, code: res.body?.code }).toEqual({ path, status, code });
    }
  });

  it('still starts a child for a plain JSON call without any credential, as the original did', async () => {
    const created = await call(`${url}/master/create-child`, json({ count: 1 }));
    expect(created.status).toBe(202);
    const stop = await call(`${url}/master/children/${created.body.id}`, { method: 'DELETE' });
    expect([200, 202]).toContain(stop.status);
  });

  it('keeps /metrics, /about and /docs open', async () => {
    for (const path of ['/metrics', '/about', '/docs', '/docs-json'])
      expect({ path, status: (await call(`${url}${path}`)).status }).toEqual({ path, status: 200 });
  });

  it('renders the Swagger UI under its Content-Security-Policy in Chromium, with no violation or failed load', async () => {
    const browser = await Browser.launch();
    try {
      const { page, problems } = await browser.open(`${url}/docs`);
      // The page as loaded again, for the policy it was served with.
      const csp = (await page.reload())?.headers()['content-security-policy'];
      expect(csp).toContain("default-src 'self'");
      const operations = page.locator('.opblock');
      await operations.first().waitFor({ timeout: 20_000 });
      expect(await operations.count()).toBeGreaterThan(3);
      await page.locator('.opblock-summary', { hasText: '/master/create-child' }).first().click();
      await page.locator('.opblock-body').first().waitFor({ timeout: 10_000 });
      expect(problems).toEqual({ consoleErrors: [], failedRequests: [] });
    } finally {
      await browser.close();
    }
  });

  it('sets the console cookie without Secure over plain HTTP', async () => {
    const res = await call(`${url}/console/session`, { method: 'POST', headers: operator });
    expect(res.status).toBe(204);
    expect(res.headers.get('set-cookie')).toMatch(/; Path=\/console;/);
    expect(res.headers.get('set-cookie')).not.toMatch(/Secure/);
  });
});
