import { Writable } from 'node:stream';
import { pino } from 'pino';
import { ShutdownSequence } from './shutdown-sequence.js';

/** A sequence whose log lines and exit code are kept for the test instead of ending the process. */
function sequence(graceMs = 10_000) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  let exited!: (code: number) => void;
  const exitCode = new Promise<number>((r) => (exited = r));
  const shutdown = new ShutdownSequence({ graceMs, log: pino(sink), exit: (code) => exited(code) });
  return { shutdown, exitCode, lines, messages: () => lines.map((l) => l.msg) };
}

const never = () => new Promise<void>(() => undefined);

describe(ShutdownSequence.name, () => {
  it('runs the begin hooks, then closes resources last-opened first, logging each, and exits with the code', async () => {
    const { shutdown, exitCode, messages } = sequence();
    const order: string[] = [];
    shutdown.add('database pool', () => void order.push('database pool'));
    shutdown.add('rpc clients', async () => void order.push('rpc clients'));
    shutdown.add('application', () => void order.push('application'));
    shutdown.onBegin(() => void order.push('readiness'));

    await shutdown.run('SIGTERM', 0);

    expect(await exitCode).toBe(0);
    expect(order).toEqual(['readiness', 'application', 'rpc clients', 'database pool']);
    expect(messages()).toEqual([
      'shutdown started',
      'closed application',
      'closed rpc clients',
      'closed database pool',
      'shutdown complete',
    ]);
  });

  it('runs once however often it is asked', async () => {
    const { shutdown, exitCode } = sequence();
    let closes = 0;
    shutdown.add('application', () => void closes++);
    await Promise.all([shutdown.run('SIGTERM', 0), shutdown.run('SIGINT', 0)]);
    await shutdown.run('job finished', 3);
    expect(closes).toBe(1);
    expect(await exitCode).toBe(0);
  });

  it('still closes the rest when one resource fails, names it, and exits 1', async () => {
    const { shutdown, exitCode, messages } = sequence();
    let databaseClosed = false;
    shutdown.add('database pool', () => void (databaseClosed = true));
    shutdown.add('application', () => Promise.reject(new Error('listener stuck')));

    await shutdown.run('SIGTERM', 0);

    expect(await exitCode).toBe(1);
    expect(databaseClosed).toBe(true);
    expect(messages()).toEqual([
      'shutdown started',
      'could not close application',
      'closed database pool',
      'shutdown finished with errors',
    ]);
  });

  it('exits 1 once the grace budget is spent, naming what had not closed', async () => {
    const { shutdown, exitCode, lines, messages } = sequence(50);
    shutdown.add('database pool', () => undefined);
    shutdown.add('application', never);

    void shutdown.run('SIGTERM', 0);

    expect(await exitCode).toBe(1);
    expect(messages()).toEqual(['shutdown started', 'shutdown grace period exceeded; exiting']);
    expect(lines.at(-1)).toMatchObject({ graceMs: 50, pending: ['application', 'database pool'] });
  });
});
