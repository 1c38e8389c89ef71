import { createServer, type AddressInfo, type Server } from 'node:net';
import {
  EchoClientJob,
  defaultEchoClientDeps,
  type EchoClientConfig,
  type EchoClientDeps,
} from './echo-client.job.js';
import { EchoServer } from './echo.server.js';
import {
  recordingLogger,
  seedReply,
  startSeedServer,
  type RecordingLogger,
  type SeedServer,
} from '../../../test/echo/echo.fixtures.js';

/**
 * A clock that only moves when the job sleeps: the loop runs as many rounds as lapse / period, exactly; the backoff
 * jitter is pinned to its top, so each wait is the full ceiling.
 */
function fakeTime(): Pick<EchoClientDeps, 'now' | 'sleep' | 'jitter'> & { sleeps: number[] } {
  let now = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    jitter: () => 1,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

const silent = recordingLogger();

async function listenOn(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A port nothing listens on: bind one, then release it. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  const port = await listenOn(probe);
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe(EchoClientJob.name, () => {
  let echo: EchoServer;
  let port: number;
  let log: RecordingLogger;

  beforeEach(async () => {
    echo = new EchoServer({ port: 0, host: '127.0.0.1' }, silent);
    port = await echo.listen();
    log = recordingLogger();
  });
  afterEach(() => echo.close(500));

  const config = (overrides: Partial<EchoClientConfig> = {}): EchoClientConfig => ({
    id: '7',
    server: { host: '127.0.0.1', port },
    lapseMs: 1000,
    periodMs: 100,
    ...overrides,
  });

  it('sends a message every period until the lapse ends, logs each reply, and exits 0', async () => {
    const job = new EchoClientJob(config(), { ...defaultEchoClientDeps(log), ...fakeTime() });
    const result = await job.run();

    expect(result).toMatchObject({ exitCode: 0, sent: 10, failures: 0, connected: true });
    expect(log.messages('info').filter((m) => m === '[CLIENT 7] Message from server')).toHaveLength(10);
    const replies = log.replies();
    expect(replies).toHaveLength(10);
    expect(replies[0]).toBe('[CLIENT 7] Message N°1 sent');
    expect(replies[9]).toBe('[CLIENT 7] Message N°10 sent');
    expect(log.messages('info').at(-1)).toBe('[CLIENT 7] Main loop finished');
  });

  it('uses one connection for the whole loop and closes it at the end', async () => {
    const job = new EchoClientJob(config(), { ...defaultEchoClientDeps(log), ...fakeTime() });
    await job.run();
    await log.waitFor(/closed connection/);
    expect(echo.stats().totalConnections).toBe(1);
    expect(log.messages('info')).toContain(`[CLIENT 7] closed connection to 127.0.0.1:${port}`);
  });

  it('runs on the real clock too', async () => {
    const job = new EchoClientJob(config({ lapseMs: 200, periodMs: 20 }), defaultEchoClientDeps(log));
    const result = await job.run();
    expect(result.exitCode).toBe(0);
    expect(result.sent).toBeGreaterThan(0);
    expect(log.messages('info').at(-1)).toBe('[CLIENT 7] Main loop finished');
  });

  it('exits 1 when a reply differs from the message', async () => {
    const shouting = createServer((socket) => {
      socket.on('data', (chunk) => socket.write(chunk.toString('utf8').toUpperCase()));
    });
    const shoutingPort = await listenOn(shouting);
    try {
      const job = new EchoClientJob(config({ server: { host: '127.0.0.1', port: shoutingPort } }), {
        ...defaultEchoClientDeps(log),
        ...fakeTime(),
      });
      const result = await job.run();
      expect(result).toMatchObject({ exitCode: 1, failures: 10 });
      expect(log.messages('error')[0]).toBe('[CLIENT 7] Reply differs from message N°1');
    } finally {
      await new Promise((resolve) => shouting.close(resolve));
    }
  });

  it('retries with growing backoff within the lapse and exits 1 when it never connects', async () => {
    const time = fakeTime();
    const unreachable = { host: '127.0.0.1', port: await closedPort() };
    const job = new EchoClientJob(config({ server: unreachable, lapseMs: 5000 }), {
      ...defaultEchoClientDeps(log),
      ...time,
    });
    const result = await job.run();

    expect(result).toMatchObject({ exitCode: 1, sent: 0, connected: false });
    expect(time.sleeps).toEqual([100, 200, 400, 800, 1600, 1900]);
    expect(log.messages('warn')).toHaveLength(6);
    expect(log.messages('warn')[0]).toMatch(
      /^\[CLIENT 7\] Could not connect to 127\.0\.0\.1:\d+: .*ECONNREFUSED.*; retrying in 100 ms$/,
    );
    expect(log.messages('error')).toContain(
      `[CLIENT 7] Never connected to ${unreachable.host}:${unreachable.port}`,
    );
  });

  it('connects once the server comes up during the lapse', async () => {
    const late = { host: '127.0.0.1', port: await closedPort() };
    const lateServer = new EchoServer({ port: late.port, host: late.host }, silent);
    const time = fakeTime();
    const sleep = time.sleep;
    // The server appears after the second failed attempt.
    time.sleep = async (ms, signal) => {
      if (time.sleeps.length === 1) await lateServer.listen();
      await sleep(ms, signal);
    };
    try {
      const job = new EchoClientJob(config({ server: late }), { ...defaultEchoClientDeps(log), ...time });
      const result = await job.run();
      expect(result).toMatchObject({ exitCode: 0, connected: true });
      expect(log.messages('warn')).toHaveLength(2);
    } finally {
      await lateServer.close(500);
    }
  });

  it('stops on request: closes the socket, logs it and resolves with exit 0', async () => {
    const job = new EchoClientJob(config({ lapseMs: 60_000, periodMs: 10 }), defaultEchoClientDeps(log));
    const running = job.run();
    await log.waitFor(/Message N°2 sent$/);

    const result = await job.stop();
    expect(result).toMatchObject({ exitCode: 0, stopped: true, failures: 0 });
    expect(await running).toBe(result);
    const info = log.messages('info');
    expect(info.slice(-2)).toEqual([
      `[CLIENT 7] closed connection to 127.0.0.1:${port}`,
      '[CLIENT 7] Main loop stopped',
    ]);
    expect(info.filter((m) => m.includes('closed connection'))).toHaveLength(1);
  });

  it('stops while retrying a connection and resolves with exit 0', async () => {
    const unreachable = { host: '127.0.0.1', port: await closedPort() };
    const job = new EchoClientJob(
      config({ server: unreachable, lapseMs: 60_000 }),
      defaultEchoClientDeps(log),
    );
    const running = job.run();
    await log.waitFor(/Could not connect/);

    expect(await job.stop()).toMatchObject({ exitCode: 0, stopped: true, connected: false });
    expect(await running).toMatchObject({ exitCode: 0 });
    expect(log.messages('info').at(-1)).toBe('[CLIENT 7] Main loop stopped');
  });

  it('counts a message as failed when the server drops the connection instead of answering', async () => {
    const dropping = createServer((socket) => socket.once('data', () => socket.destroy()));
    const droppingPort = await listenOn(dropping);
    try {
      const job = new EchoClientJob(config({ server: { host: '127.0.0.1', port: droppingPort } }), {
        ...defaultEchoClientDeps(log),
        ...fakeTime(),
      });
      const result = await job.run();
      expect(result.exitCode).toBe(1);
      expect(result.failures).toBe(result.sent);
      expect(log.messages('error')[0]).toMatch(/^\[CLIENT 7\] No reply to message N°1: /);
    } finally {
      await new Promise((resolve) => dropping.close(resolve));
    }
  });

  describe('against a server that closes after each reply, like the seed', () => {
    let seed: SeedServer;
    beforeEach(async () => {
      seed = await startSeedServer();
    });
    afterEach(() => seed.stop());

    const seedConfig = (overrides: Partial<EchoClientConfig> = {}) =>
      config({ server: { host: '127.0.0.1', port: seed.port }, ...overrides });

    it('dials again for each message and loses none; CLI_EXPECT=any logs whatever line came back', async () => {
      const job = new EchoClientJob(seedConfig({ expect: 'any' }), {
        ...defaultEchoClientDeps(log),
        ...fakeTime(),
      });
      const result = await job.run();

      expect(result).toMatchObject({ exitCode: 0, sent: 10, failures: 0 });
      expect(log.replies()).toEqual(
        Array.from({ length: 10 }, (_, i) => seedReply(`[CLIENT 7] Message N°${i + 1} sent`)),
      );
      expect(log.messages('error')).toEqual([]);
      expect(seed.connections()).toBeGreaterThanOrEqual(10);
    });

    it('on the real clock too', async () => {
      const job = new EchoClientJob(
        seedConfig({ expect: 'any', lapseMs: 300, periodMs: 30 }),
        defaultEchoClientDeps(log),
      );
      const result = await job.run();
      expect(result).toMatchObject({ exitCode: 0, failures: 0 });
      expect(result.sent).toBeGreaterThan(1);
      expect(log.messages('error')).toEqual([]);
    });

    it('by default (CLI_EXPECT=echo) counts its answers as replies that differ, and exits 1', async () => {
      const job = new EchoClientJob(seedConfig(), { ...defaultEchoClientDeps(log), ...fakeTime() });
      const result = await job.run();
      expect(result).toMatchObject({ exitCode: 1, sent: 10, failures: 10 });
      expect(log.messages('error')[0]).toBe('[CLIENT 7] Reply differs from message N°1');
      expect(log.messages('error').filter((m) => m.includes('No reply'))).toEqual([]);
    });
  });

  it('sends a message again on a fresh connection when the server closed the old one as it went out', async () => {
    // Answers the first line of each connection, then closes on the next one without answering it: the close
    // crosses that message, which must not be lost.
    const closing = createServer((socket) => {
      let answered = false;
      socket.on('error', () => undefined);
      socket.on('data', (chunk) => {
        if (answered) return void socket.destroy();
        answered = true;
        socket.write(chunk);
      });
    });
    const closingPort = await listenOn(closing);
    try {
      const job = new EchoClientJob(config({ server: { host: '127.0.0.1', port: closingPort } }), {
        ...defaultEchoClientDeps(log),
        ...fakeTime(),
      });
      const result = await job.run();
      expect(result).toMatchObject({ exitCode: 0, sent: 10, failures: 0 });
      expect(log.messages('info').filter((m) => m.includes('Message from server'))).toHaveLength(10);
    } finally {
      await new Promise((resolve) => closing.close(resolve));
    }
  });
});
