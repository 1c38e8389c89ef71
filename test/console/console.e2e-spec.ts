// The operations console in a real browser (Debian's Chromium through playwright-core), in both topologies: one
// topology and one browser per topology, shared by every `it`.
import { connect } from 'node:net';
import type { Page } from 'playwright-core';
import request from 'supertest';
import { post, secrets, tokenOf, users } from '../payments/payments.fixtures.js';
import { Browser, browserBeside, type PageProblems } from '../harness/browser.js';
import { freePort } from '../harness/ports.js';
import { sleep, Topology, TOPOLOGIES, type RoleProcess } from '../harness/topology.js';
import type { RoleName } from '../../src/roles/role-table.js';

/** Every role that `all` boots: the multi topology runs each as its own process. */
const ROLES: RoleName[] = [
  'exchange',
  'generator',
  'echo-server',
  'calculator',
  'auth',
  'transaction',
  'psp',
  'master',
];
const MASTER_RANGE = 10_000;
/** Long enough for a loaded machine; the console polls every 2 s. */
const SHOWN_MS = 20_000;

const figure = (page: Page, panel: string, name: string) =>
  page.locator(`#${panel} [data-figure="${name}"]`).textContent();

/** Polls an element's text until it passes the test (the page updates on its own every 2 s). */
async function textUntil(
  page: Page,
  selector: string,
  test: (text: string) => boolean,
  timeoutMs = SHOWN_MS,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = (await page.locator(selector).first().textContent({ timeout: timeoutMs })) ?? '';
    if (test(text)) return text;
    if (Date.now() > deadline) throw new Error(`${selector} still reads "${text}" after ${timeoutMs} ms`);
    await sleep(200);
  }
}

async function echoLine(port: number, line: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`${line}\n`));
    socket.on('data', () => {
      socket.end();
      resolve();
    });
    socket.on('error', reject);
  });
}

describe.each(TOPOLOGIES)('operations console, %s topology', (kind) => {
  let topo: Topology;
  let browser: Browser;
  let served: RoleProcess;
  let page: Page;
  let problems: PageProblems;

  beforeAll(async () => {
    ({ browser, started: topo } = await browserBeside(
      Topology.startKind(kind, ROLES, {
        env: {
          JWT_SECRET: secrets.jwt,
          MASTER_RANGE: String(MASTER_RANGE),
          MASTER_CHILD_STOP_GRACE_MS: '4000',
          // Requests from this machine are "watched", so the calculator emits a notification for each.
          CALCULATOR_WATCH_IPS: '127.0.0.1',
          // Only the calculator opens it; a free one, so other runs on this machine never hold it.
          GRPC_PORT: String(await freePort()),
        },
        readyTimeoutMs: 120_000,
      }),
    ));
    // In multi, one role's console shows the whole deployment; the transaction's is as good as any.
    served = topo.host('transaction');
    ({ page, problems } = await browser.open(`${served.url}/console`));
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await topo?.stop();
  });

  it('answers GET / with a plain-text welcome that names the roles and links the console, docs and readiness', async () => {
    const exchange = await request(topo.host('exchange').url).get('/').expect(200);
    expect(exchange.headers['content-type']).toMatch(/^text\/plain/);
    expect(exchange.text.split('\n')[0]).toBe('Welcome to the exchange server.');
    for (const link of ['/console', '/docs', '/health/ready']) expect(exchange.text).toContain(link);
    expect(exchange.text).toContain('exchange');
    const transaction = await request(served.url).get('/').expect(200);
    expect(transaction.text).toContain('transaction');
    if (kind === 'multi') expect(transaction.text).not.toContain('Welcome to the exchange server.');
  });

  it('serves GET /console as HTML with its assets from the role itself, nothing from elsewhere', async () => {
    const res = await request(served.url).get('/console').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    const refs = [...res.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(refs).toEqual([
      '/console/assets/favicon.svg',
      '/console/assets/console.css',
      '/console/assets/console.js',
    ]);
    await request(served.url).get('/console/assets/favicon.svg').expect(200).expect('content-type', /svg/);
    await request(served.url)
      .get('/console/assets/console.js')
      .expect(200)
      .expect('content-type', /javascript/);
    await request(served.url).get('/console/assets/console.css').expect(200).expect('content-type', /css/);
    await request(served.url).get('/console/assets/..%2Fconsole.controller.js').expect(404);
  });

  it('loads with no console errors and no failed requests, and shows every role of the topology up', async () => {
    for (const role of ROLES) {
      await page.locator(`#roles tr[data-role="${role}"][data-state="up"]`).waitFor({ timeout: SHOWN_MS });
      await page.locator(`[data-graph-role="${role}"]`).waitFor({ timeout: SHOWN_MS });
    }
    await page
      .locator('#health [data-up="true"] [data-check="database"]')
      .first()
      .waitFor({ timeout: SHOWN_MS });
    expect(problems).toEqual({ consoleErrors: [], failedRequests: [] });
    const nodes = await page.locator('#health [data-up="true"]').count();
    expect(nodes).toBe(kind === 'single' ? 1 : ROLES.length);
  });

  it('shows each call edge live: its state, calls per second and latency', async () => {
    const expected = kind === 'single' ? 'in-process' : 'up';
    const edge = page.locator(`#edges tr[data-edge="generator->exchange"][data-state="${expected}"]`);
    await edge.waitFor({ timeout: SHOWN_MS });
    const deadline = Date.now() + SHOWN_MS;
    let rate = 0;
    while (rate === 0 && Date.now() < deadline) {
      await Promise.all(
        Array.from({ length: 5 }, () =>
          request(topo.host('generator').url).get('/generator/random').expect(200),
        ),
      );
      rate = Number(await edge.locator('td').nth(3).textContent());
    }
    expect(rate).toBeGreaterThan(0);
    expect(await edge.locator('td').nth(4).textContent()).toMatch(/ms$/);
    expect(await edge.locator('td').nth(5).textContent()).toMatch(/ms$/);
    expect(await edge.locator('td').nth(6).textContent()).toBe('0 %');
  });

  it('shows the readiness checks of every process with their details and age', async () => {
    const card = page.locator('#health [data-up="true"]').filter({ hasText: 'transaction' }).first();
    await card.locator('[data-check="database"]').waitFor({ timeout: SHOWN_MS });
    expect(await card.textContent()).toMatch(/checked \d+ s ago/);
    if (kind === 'multi') await card.locator('[data-check="peer:auth"]').waitFor({ timeout: SHOWN_MS });
    expect(await card.locator('[data-check="database"] code').textContent()).toMatch(/responseTime/);
  });

  it('keeps the exchange ticker and rates, the calculator totals, event tail and notifications, and the echo figures live', async () => {
    await request(topo.host('exchange').url).get('/exchange?amount=42&from=EUR&to=USD').expect(200);
    await page.locator('#ticker li', { hasText: '42 EUR' }).first().waitFor({ timeout: SHOWN_MS });
    expect(await page.locator('#rates tbody tr').count()).toBeGreaterThan(1);

    await request(topo.host('calculator').url)
      .post('/calculator/summation')
      .send({ first: 1, last: 3 })
      .expect(200);
    await textUntil(page, '#calculator [data-figure="summation"]', (t) => Number(t) >= 1);
    await page.locator('#calculator-events tbody tr').first().waitFor({ timeout: SHOWN_MS });
    await page
      .locator('#notifications li', { hasText: 'ClientWatched' })
      .first()
      .waitFor({ timeout: SHOWN_MS });

    const echo = topo.host('echo-server');
    await echoLine(echo.echoPort, 'hello console');
    await textUntil(page, '#echo [data-figure="lines"]', (t) => Number(t) >= 1);
    await textUntil(page, '#echo [data-figure="lines-per-s"]', (t) => /^\d/.test(t));
    expect(await figure(page, 'echo', 'oversized')).toBe('0');
    expect(await figure(page, 'echo', 'idle')).toBe('0');
  });

  it('shows a payment posted through the API in the payments panel, and never a token, secret or password', async () => {
    const token = await tokenOf(topo.host('auth').url, users.alice);
    const paid = await post(`${topo.host('transaction').url}/transaction/transaction`, {
      amount: 12.5,
      currency: 'EUR',
      token,
    });
    expect(paid.status).toBe(200);
    const row = page.locator(`#transactions tr[data-transaction="${paid.body.id}"]`);
    await row.waitFor({ timeout: SHOWN_MS });
    expect(await row.textContent()).toContain('EUR');
    await page
      .locator(`#transactions tr[data-transaction="${paid.body.id}"]`, { hasText: 'completed' })
      .waitFor({
        timeout: SHOWN_MS,
      });
    expect(Number(await figure(page, 'payments', 'completed'))).toBeGreaterThanOrEqual(1);
    const stats = await request(served.url).get('/console/api/panels').expect(200);
    expect(JSON.stringify(stats.body)).not.toContain(token);
    const shown = await page.content();
    for (const secret of [token, secrets.jwt, users.alice.password, topo.databaseUrl])
      expect(shown).not.toContain(secret);
    const direct = await request(topo.host('transaction').url).get('/transaction/stats').expect(200);
    expect(direct.body.last[0]).toEqual({
      id: expect.any(String),
      amount: expect.any(Number),
      currency: expect.any(String),
      status: expect.stringMatching(/^(pending|completed|failed)$/),
      created_at: expect.any(String),
    });
  });

  it('starts a child from the form, and the coverage chart and unique count move; a running child can be stopped', async () => {
    const unique = async () => Number(await figure(page, 'master', 'unique'));
    await page.locator('#master [data-figure="unique"]').waitFor({ timeout: SHOWN_MS });
    const before = await unique();
    const pointsBefore = Number(await page.locator('#coverage-chart').getAttribute('data-points'));
    await page.fill('#start-child input[name="count"]', '2000');
    await page.fill('#start-child input[name="min"]', '0');
    await page.fill('#start-child input[name="max"]', String(MASTER_RANGE));
    await page.click('#start-child button[type="submit"]');
    await page.locator('#master-message', { hasText: 'started' }).waitFor({ timeout: SHOWN_MS });
    await textUntil(page, '#master [data-figure="unique"]', (t) => Number(t) > before, 60_000);
    expect(await unique()).toBeGreaterThan(before);
    expect(Number(await page.locator('#coverage-chart').getAttribute('data-points'))).toBeGreaterThan(
      pointsBefore,
    );
    expect(await page.locator('#coverage-chart canvas').count()).toBeGreaterThan(0);
    await page.locator('#children tr[data-child]').first().waitFor({ timeout: SHOWN_MS });

    // A child that draws for long enough to be stopped from its row.
    await page.fill('#start-child input[name="count"]', '100000000');
    await page.click('#start-child button[type="submit"]');
    const running = page.locator('#children tr[data-status="running"]').first();
    await running.waitFor({ timeout: 60_000 });
    const id = await running.getAttribute('data-child');
    await running.locator('button', { hasText: 'Stop' }).click();
    await page
      .locator(`#children tr[data-child="${id}"]:not([data-status="running"]):not([data-status="starting"])`)
      .waitFor({ timeout: 60_000 });
    await Browser.screenshot(page, `console-${kind}`);
  });

  if (kind === 'multi') {
    it("shows the generator's edge down within 5 s of the exchange being killed, and up again after a restart", async () => {
      const exchange = topo.get('exchange');
      const edge = (states: string) =>
        page.locator(`#edges tr[data-edge="generator->exchange"]:is(${states})`).waitFor({ timeout: 5000 });
      await edge('[data-state="up"]');
      await exchange.kill();
      await edge('[data-state="down"], [data-state="connecting"]');
      await page.locator('#roles tr[data-role="exchange"][data-state="down"]').waitFor({ timeout: SHOWN_MS });
      await page.locator('#health [data-up="false"]').first().waitFor({ timeout: SHOWN_MS });
      await Browser.screenshot(page, 'console-multi-exchange-down');
      await exchange.restart();
      await page
        .locator('#edges tr[data-edge="generator->exchange"][data-state="up"]')
        .waitFor({ timeout: 30_000 });
      await page.locator('#roles tr[data-role="exchange"][data-state="up"]').waitFor({ timeout: SHOWN_MS });
    });
  }
});
