import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configureRootLogger, createLogger, flushLogs, logDestination } from './logger.js';

describe('flushLogs', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'polyrole-logs-'))));
  afterEach(() => {
    configureRootLogger({ role: 'test', level: 'silent', destination: { write: () => true } as never });
    rmSync(dir, { recursive: true, force: true });
  });

  it('returns once every line logged before it is written, the write in flight and those queued behind it', async () => {
    const file = join(dir, 'out.log');
    const destination = logDestination(file);
    await new Promise((ready) => destination.once('ready', ready));
    configureRootLogger({ role: 'test', level: 'info', destination: destination as never });
    const log = createLogger('spec');
    for (let i = 0; i < 5000; i++) log.info({ i }, 'line');
    await flushLogs(5000);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(5000);
    expect((JSON.parse(lines[4999]) as { i: number }).i).toBe(4999);
    destination.end();
  });

  it('returns at once when nothing is pending', async () => {
    const destination = logDestination(join(dir, 'idle.log'));
    await new Promise((ready) => destination.once('ready', ready));
    configureRootLogger({ role: 'test', level: 'info', destination: destination as never });
    await flushLogs(60_000);
    destination.end();
  });
});
