// A suite or test that cannot run here is reported as skipped with its reason, never counted as passed: jest marks
// it skipped, and the run's teardown lists every reason at the end (and fails the run under CI=true, where
// everything must run).
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the run's teardown reads the skips from (see global-teardown.mjs). */
export const SKIPS_FILE = 'polyrole-skips.jsonl';

function record(suite: string, reason: string): void {
  const runTmp = process.env.POLYROLE_TEST_RUN_TMP;
  if (runTmp) appendFileSync(join(runTmp, SKIPS_FILE), `${JSON.stringify({ suite, reason })}\n`);
}

/** Registers `title` as a skipped suite, with the reason in its one skipped test's name and in the run's summary. */
export function skipSuite(title: string, reason: string): void {
  record(title, reason);
  describe(title, () => it.skip(`not run here: ${reason}`, () => undefined));
}

/** `it` when `runs`, otherwise a skipped test whose reason reaches the run's summary. */
export function itIf(runs: boolean, reason: string): jest.It {
  if (runs) return it;
  return ((title: string, fn?: jest.ProvidesCallback, timeout?: number) => {
    record(title, reason);
    it.skip(`${title} (not run here: ${reason})`, fn, timeout);
  }) as jest.It;
}
