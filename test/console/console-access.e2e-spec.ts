// Who may open the operations console: off in production unless CONSOLE_ENABLED=true, then only with
// CONSOLE_TOKEN (validated at boot), on every console route and operation, and on the operations endpoints.
import request from 'supertest';
import { boot, Topology, type RoleProcess } from '../harness/topology.js';

const consoleToken = 'console-token-for-e2e-0123456789abcdef';

/** Every console route and operation, and the operations endpoint a module adds for it. */
const routes: Array<{ method: 'get' | 'post' | 'delete'; path: string }> = [
  { method: 'get', path: '/console' },
  { method: 'get', path: '/console/assets/console.js' },
  { method: 'get', path: '/console/api/deployment' },
  { method: 'get', path: '/console/api/panels' },
  { method: 'get', path: '/console/api/traces' },
  { method: 'get', path: '/console/api/traces?edge=transaction->psp' },
  { method: 'get', path: '/console/api/traces/4bf92f3577b34da6a3ce929d0e0e4736' },
  { method: 'get', path: '/console/api/streams/exchange' },
  { method: 'post', path: '/console/api/master/children' },
  { method: 'delete', path: '/console/api/master/children/c1-x' },
  { method: 'post', path: '/console/session' },
  { method: 'get', path: '/transaction/stats' },
  { method: 'get', path: '/spans' },
  { method: 'get', path: '/spans?traceId=4bf92f3577b34da6a3ce929d0e0e4736' },
];

describe('operations console access with NODE_ENV=production', () => {
  let offTopology: Topology;
  let guardedTopology: Topology;
  let off: RoleProcess;
  let guarded: RoleProcess;

  beforeAll(async () => {
    const guard = { NODE_ENV: 'production', CONSOLE_ENABLED: 'true', CONSOLE_TOKEN: consoleToken };
    [offTopology, guardedTopology] = await Promise.all([
      Topology.start([
        { name: 'off', role: 'exchange,transaction', env: { NODE_ENV: 'production' }, waitFor: 'live' },
      ]),
      // The payments live in another process, which the guarded console reads with the token.
      Topology.start([
        { name: 'guarded', role: 'exchange', env: guard },
        { name: 'payments', role: 'transaction', env: guard, waitFor: 'live' },
      ]),
    ]);
    off = offTopology.get('off');
    guarded = guardedTopology.get('guarded');
  });
  afterAll(() => Promise.all([offTopology?.stop(), guardedTopology?.stop()]));

  it.each(routes)(
    'keeps $method $path off (404 problem) unless CONSOLE_ENABLED=true',
    async ({ method, path }) => {
      const res = await request(off.url)[method](path).set('authorization', `Bearer ${consoleToken}`);
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body.code).toBe('console_disabled');
    },
  );

  it('still answers GET / with the welcome while the console is off', async () => {
    const res = await request(off.url).get('/').expect(200);
    expect(res.text.startsWith('Welcome to the exchange server.\n')).toBe(true);
  });

  it.each(routes)(
    'answers $method $path with 401 without the token or with a wrong one',
    async ({ method, path }) => {
      const target = path.startsWith('/transaction') ? guardedTopology.get('payments') : guarded;
      for (const auth of [
        undefined,
        'Bearer not-the-console-token-0123456789abcdef',
        `Basic ${consoleToken}`,
      ]) {
        const req = request(target.url)[method](path);
        const res = await (auth ? req.set('authorization', auth) : req);
        expect(res.status).toBe(401);
        expect(res.body.code).toBe('console_token_required');
        expect(res.headers['www-authenticate']).toBe('Bearer');
      }
    },
  );

  it('opens the page, its data and the operations endpoint with the bearer token, and never shows the token', async () => {
    const bearer = `Bearer ${consoleToken}`;
    const page = await request(guarded.url).get('/console').set('authorization', bearer).expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const script = await request(guarded.url)
      .get('/console/assets/console.js')
      .set('authorization', bearer)
      .expect(200);
    const view = await request(guarded.url)
      .get('/console/api/deployment')
      .set('authorization', bearer)
      .expect(200);
    const states = Object.fromEntries(
      view.body.roles.map((r: { name: string; state: string }) => [r.name, r.state]),
    );
    expect(states).toEqual(expect.objectContaining({ exchange: 'up', transaction: 'up', auth: 'down' }));
    const panels = await request(guarded.url)
      .get('/console/api/panels')
      .set('authorization', bearer)
      .expect(200);
    // The other process is reached with the token too: its payments panel has figures, not a 401.
    expect(panels.body.transaction.error).toBeUndefined();
    expect(panels.body.transaction.data.stats.byStatus).toEqual(expect.objectContaining({ pending: 0 }));
    await request(guardedTopology.get('payments').url)
      .get('/transaction/stats')
      .set('authorization', bearer)
      .expect(200);
    for (const body of [page.text, script.text, JSON.stringify(view.body), JSON.stringify(panels.body)])
      expect(body).not.toContain(consoleToken);
  });

  it("reads each role's spans with the token: the traces view has an answer from every process, none refused", async () => {
    const bearer = `Bearer ${consoleToken}`;
    for (const target of [guarded, guardedTopology.get('payments')]) {
      const spans = await request(target.url).get('/spans?limit=5').set('authorization', bearer).expect(200);
      expect(spans.body).toEqual(
        // Production samples a tenth of the traces, so a refused request above may be among them: only the shape is fixed.
        expect.objectContaining({
          tracing: expect.any(Boolean),
          recent: expect.any(Array),
          slowest: expect.any(Array),
        }),
      );
    }
    const traces = await request(guarded.url)
      .get('/console/api/traces')
      .set('authorization', bearer)
      .expect(200);
    expect(traces.body.errors).toEqual([]);
    const edge = await request(guarded.url)
      .get('/console/api/traces?edge=transaction->psp')
      .set('authorization', bearer)
      .expect(200);
    expect(edge.body.edge).toEqual({ from: 'transaction', to: 'psp', methods: ['psp'] });
    expect(edge.body.errors).toEqual([]);
  });

  it.each([
    '/spans?traceId=not-a-trace',
    '/spans?traceId=00000000000000000000000000000000',
    '/spans?limit=0',
    '/spans?limit=99999',
    '/spans?rpcMethod=a%20b',
    '/spans?peer=',
    '/console/api/traces/NOT-A-TRACE',
    '/console/api/traces?edge=psp->transaction',
    '/console/api/traces?edge=nonsense',
  ])('answers %s, with the token, with a 400 problem', async (path) => {
    const res = await request(guarded.url).get(path).set('authorization', `Bearer ${consoleToken}`);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
  });

  it('gives a browser a session cookie for the token, which opens the console but does not hold the token', async () => {
    const session = await request(guarded.url)
      .post('/console/session')
      .set('authorization', `Bearer ${consoleToken}`)
      .expect(204);
    const cookie = String(session.headers['set-cookie']).split(';')[0];
    expect(session.headers['set-cookie']?.[0]).toMatch(/HttpOnly; SameSite=Strict/);
    expect(cookie).not.toContain(consoleToken);
    await request(guarded.url).get('/console').set('cookie', cookie).expect(200);
    await request(guarded.url).get('/console/api/deployment').set('cookie', cookie).expect(200);
    await request(guarded.url).get('/console').set('cookie', `${cookie}x`).expect(401);
  });
});

describe('console settings at boot', () => {
  it('stops with exit 1 when the console is enabled in production without CONSOLE_TOKEN', () => {
    const res = boot({ ROLE: 'exchange', NODE_ENV: 'production', CONSOLE_ENABLED: 'true' });
    expect(res.status).toBe(1);
    expect(res.stderr).toContain(
      'CONSOLE_TOKEN is required when CONSOLE_ENABLED=true with NODE_ENV=production',
    );
  });

  it('stops with exit 1 for a CONSOLE_TOKEN under 32 bytes, without echoing it', () => {
    const res = boot({ ROLE: 'exchange', CONSOLE_TOKEN: 'short-secret-token', CONSOLE_TARGETS: 'ftp://x' });
    expect(res.status).toBe(1);
    expect(res.stderr).toContain('CONSOLE_TOKEN: must be at least 32 bytes');
    expect(res.stderr).not.toContain('short-secret-token');
    expect(res.stderr).toContain('CONSOLE_TARGETS: must use http or https');
  });
});
