// Traces of the roles' own request paths in the console, in a real browser, in both topologies: one
// GET /generator/random is one waterfall with the generator's and the exchange's spans; one payment shows the
// transaction's request, auth.verify, its SQL statements, the outbox's delivery and the psp. Each request carries a
// traceparent of the test's own (an outside caller's trace is continued), so the test knows which trace to open.
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { post, secrets, tokenOf, users } from '../payments/payments.fixtures.js';
import { Browser, browserBeside, SCREENSHOTS, type PageProblems } from '../harness/browser.js';
import { Topology, TOPOLOGIES, type RoleProcess } from '../harness/topology.js';
import type { RoleName } from '../../src/roles/role-table.js';

const ROLES: RoleName[] = ['exchange', 'generator', 'auth', 'transaction', 'psp'];
/** Long enough for a loaded machine; the page polls every 2 s and the outbox delivers on its own schedule. */
const SHOWN_MS = 30_000;

function outsideTrace(): { traceId: string; traceparent: string } {
  const traceId = randomBytes(16).toString('hex');
  return { traceId, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` };
}

interface Row {
  span: string;
  role: string;
  kind: string;
  status: string;
  system: string;
  linked: boolean;
}

async function rowsOf(waterfall: Locator): Promise<Row[]> {
  return waterfall.locator('tr.span').evaluateAll((trs) =>
    trs.map((tr) => ({
      span: tr.getAttribute('data-span') ?? '',
      role: tr.getAttribute('data-role') ?? '',
      kind: tr.getAttribute('data-kind') ?? '',
      status: tr.getAttribute('data-status') ?? '',
      system: tr.getAttribute('data-system') ?? '',
      linked: tr.classList.contains('linked'),
    })),
  );
}

/** Waits until the waterfall's rows pass the test (the page polls the trace, and later work joins it). */
async function rowsUntil(page: Page, traceId: string, test: (rows: Row[]) => boolean): Promise<Row[]> {
  const waterfall = page.locator(`#waterfall[data-trace="${traceId}"]`);
  const deadline = Date.now() + SHOWN_MS;
  for (;;) {
    const rows = (await waterfall.count()) ? await rowsOf(waterfall) : [];
    if (test(rows)) return rows;
    if (Date.now() > deadline)
      throw new Error(`waterfall of ${traceId} shows ${JSON.stringify(rows, null, 1)} after ${SHOWN_MS} ms`);
    await page.waitForTimeout(250);
  }
}

const has = (rows: Row[], test: (r: Row) => boolean) => rows.some(test);
/** The outbox's delivery: named for the outbox, or a messaging span of it. */
const isOutbox = (s: Row) => /outbox/i.test(s.span) || /outbox/i.test(s.system);

describe.each(TOPOLOGIES)('traces in the console, %s topology', (kind) => {
  let topo: Topology;
  let browser: Browser;
  let served: RoleProcess;
  let page: Page;
  let problems: PageProblems;

  beforeAll(async () => {
    ({ browser, started: topo } = await browserBeside(
      Topology.startKind(kind, ROLES, { env: { JWT_SECRET: secrets.jwt }, readyTimeoutMs: 120_000 }),
    ));
    served = topo.host('transaction');
    ({ page, problems } = await browser.open(`${served.url}/console`));
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await topo?.stop();
  });

  it('shows one GET /generator/random as one waterfall with the generator and exchange spans', async () => {
    const { traceId, traceparent } = outsideTrace();
    const res = await fetch(`${topo.host('generator').url}/generator/random`, { headers: { traceparent } });
    expect(res.status).toBe(200);
    await page.locator(`#recent-traces tr[data-trace="${traceId}"] button`).click({ timeout: SHOWN_MS });
    const rows = await rowsUntil(
      page,
      traceId,
      (r) =>
        has(r, (s) => s.kind === 'server' && /generator\/random/.test(s.span)) &&
        has(r, (s) => s.kind === 'client' && s.span === 'exchange.convert') &&
        has(r, (s) => s.kind === 'server' && s.span === 'exchange.convert'),
    );
    expect(rows[0]).toEqual(
      expect.objectContaining({ kind: 'server', status: expect.not.stringMatching('error') }),
    );
    expect(rows[0].span).toMatch(/^GET \/generator\/random/);
    const roles = new Set(rows.map((r) => r.role));
    if (kind === 'multi') {
      expect(rows.find((r) => r.kind === 'server' && r.span === 'exchange.convert')?.role).toBe('exchange');
      expect(rows[0].role).toBe('generator');
      expect(roles).toEqual(new Set(['generator', 'exchange']));
    } else expect(roles.size).toBe(1);
    expect(rows.some((r) => r.status === 'error')).toBe(false);
    await mkdir(SCREENSHOTS, { recursive: true });
    await page
      .locator('#traces')
      .screenshot({ path: join(SCREENSHOTS, `console-traces-generator-${kind}.png`) });
  });

  it('shows one payment as transaction -> auth.verify -> its SQL statements -> the outbox delivery -> the psp', async () => {
    const token = await tokenOf(topo.host('auth').url, users.alice);
    const { traceId, traceparent } = outsideTrace();
    const paid = await post(
      `${topo.host('transaction').url}/transaction/transaction`,
      { amount: 12.5, currency: 'EUR', token },
      { traceparent },
    );
    expect(paid.status).toBe(200);
    await page.locator(`#recent-traces tr[data-trace="${traceId}"] button`).click({ timeout: SHOWN_MS });
    const rows = await rowsUntil(
      page,
      traceId,
      (r) =>
        has(r, (s) => s.kind === 'server' && /^POST \/transaction\/transaction/.test(s.span)) &&
        has(r, (s) => s.span === 'auth.verify' && s.kind === 'client') &&
        has(r, (s) => s.span === 'auth.verify' && s.kind === 'server') &&
        has(r, (s) => s.system === 'postgresql') &&
        has(r, isOutbox) &&
        has(r, (s) => s.span === 'psp.process' && s.kind === 'server'),
    );
    const at = (test: (r: Row) => boolean) => rows.findIndex(test);
    // In the waterfall's order: the request first, auth before the delivery, the psp under the delivery.
    expect(at((s) => /^POST \/transaction\/transaction/.test(s.span))).toBe(0);
    expect(at((s) => s.span === 'auth.verify')).toBeLessThan(at(isOutbox));
    expect(at(isOutbox)).toBeLessThan(at((s) => s.span === 'psp.process' && s.kind === 'server'));
    if (kind === 'multi') {
      expect(rows.find((s) => s.span === 'auth.verify' && s.kind === 'server')?.role).toBe('auth');
      expect(rows.find((s) => s.span === 'psp.process' && s.kind === 'server')?.role).toBe('psp');
      expect(rows.filter((s) => s.system === 'postgresql').map((s) => s.role)).toContain('transaction');
    }
    expect(rows.some((r) => r.status === 'error')).toBe(false);
    await mkdir(SCREENSHOTS, { recursive: true });
    await page
      .locator('#traces')
      .screenshot({ path: join(SCREENSHOTS, `console-traces-payment-${kind}.png`) });
  });

  it("opens the transaction -> psp edge's slowest calls from the graph, with the psp in their waterfall", async () => {
    await page.locator('[data-graph-edge="transaction->psp"] text').click();
    const first = page
      .locator('#traces[data-edge="transaction->psp"] #slowest-traces tr[data-trace]')
      .first();
    await first.waitFor({ timeout: SHOWN_MS });
    const traceId = (await first.getAttribute('data-trace'))!;
    await first.locator('button').click();
    await rowsUntil(page, traceId, (r) => has(r, (s) => s.span === 'psp.process'));
  });

  it('marks a failed span by colour and label: auth.verify refusing a payment with a bad token', async () => {
    const { traceId, traceparent } = outsideTrace();
    const refused = await post(
      `${topo.host('transaction').url}/transaction/transaction`,
      { amount: 12.5, currency: 'EUR', token: 'not-a-token' },
      { traceparent },
    );
    expect(refused.status).toBe(401);
    await page.locator('#traces button', { hasText: 'All traces' }).click();
    await page.locator(`#recent-traces tr[data-trace="${traceId}"][data-error="true"] button`).click({
      timeout: SHOWN_MS,
    });
    const rows = await rowsUntil(page, traceId, (r) =>
      has(r, (s) => s.span === 'auth.verify' && s.status === 'error'),
    );
    const failed = page.locator(`#waterfall[data-trace="${traceId}"] tr.span.failed`).first();
    expect(await failed.locator('[data-status="error"]').textContent()).toMatch(/^✕ error/);
    expect(rows.filter((r) => r.status === 'error').length).toBeGreaterThan(0);
    expect(problems).toEqual({ consoleErrors: [], failedRequests: [] });
  });

  it("records none of the console's own reads of the roles (/about, /metrics every 2 s): they carry an unsampled context", async () => {
    await page.locator('#roles tr[data-role="exchange"][data-state="up"]').waitFor({ timeout: SHOWN_MS });
    const res = await fetch(`${topo.host('exchange').url}/spans?limit=2048`);
    const kept = (await res.json()) as { recent: Array<{ attributes: Record<string, unknown> }> };
    expect(kept.recent.length).toBeGreaterThan(0);
    const routes = kept.recent.map((s) => s.attributes['http.route']);
    expect(routes).not.toContain('/about');
    expect(routes).not.toContain('/metrics');
  });
});
