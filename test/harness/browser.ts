// The one way suites drive a real browser: playwright-core on Debian's Chromium (installed when missing), with a
// fresh profile each launch. Records what the page logs as errors and every request that failed, so a suite can
// say "the page loaded cleanly".
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ROOT } from './topology.js';
import { ensureCommand } from './tools.js';

export const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const SCREENSHOTS = resolve(ROOT, 'test-results');

export interface PageProblems {
  consoleErrors: string[];
  failedRequests: string[];
}

export class Browser {
  private constructor(
    private readonly context: BrowserContext,
    private readonly profile: string,
  ) {}

  static async launch(): Promise<Browser> {
    await ensureCommand('chromium', 'chromium');
    const profile = await mkdtemp(join(tmpdir(), 'polyrole-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      viewport: { width: 1400, height: 1500 },
    });
    return new Browser(context, profile);
  }

  /** Opens a page, recording its console errors and failed requests from the first byte on. */
  async open(url: string): Promise<{ page: Page; problems: PageProblems }> {
    const page = await this.context.newPage();
    const problems: PageProblems = { consoleErrors: [], failedRequests: [] };
    page.on('console', (m) => {
      if (m.type() === 'error') problems.consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => problems.consoleErrors.push(String(e)));
    page.on('requestfailed', (r) => {
      // A stream the page itself closes (leaving, reloading) is reported as aborted; that is not a failure.
      if (r.failure()?.errorText !== 'net::ERR_ABORTED')
        problems.failedRequests.push(`${r.url()} ${r.failure()?.errorText}`);
    });
    page.on('requestfinished', async (r) => {
      const status = (await r.response())?.status() ?? 0;
      if (status >= 400) problems.failedRequests.push(`${r.url()} ${status}`);
    });
    await page.goto(url);
    return { page, problems };
  }

  static async screenshot(page: Page, name: string): Promise<string> {
    await mkdir(SCREENSHOTS, { recursive: true });
    const path = join(SCREENSHOTS, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    return path;
  }

  async close(): Promise<void> {
    await this.context.close();
    await rm(this.profile, { recursive: true, force: true });
  }
}

/**
 * Launches a browser while `starting` (a topology, say) comes up. When either fails, whichever did start is stopped
 * before the error is rethrown, so a suite's afterAll has nothing left to close.
 */
export async function browserBeside<T extends { stop(): Promise<unknown> }>(
  starting: Promise<T>,
): Promise<{ browser: Browser; started: T }> {
  const launched = Browser.launch();
  try {
    const [browser, started] = await Promise.all([launched, starting]);
    return { browser, started };
  } catch (err) {
    await Promise.allSettled([launched.then((b) => b.close()), starting.then((s) => s.stop())]);
    throw err;
  }
}
