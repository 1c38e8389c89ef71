// Echo roles as single processes: settings precedence (env > config file > default) through temporary config
// directories, invalid durations, and the echo-client job's exits (wrong replies, no server, SIGTERM). None of these
// involves a second role process, so one topology is enough. The jobs that run to their end are started together in
// beforeAll (each is a process of its own, so their boots overlap) and each `it` checks one of them.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../harness/ports.js';
import { Topology, type RoleProcess } from '../harness/topology.js';
import { connectTo, readUntilClose, seedReply, startSeedServer, type SeedServer } from './echo.fixtures.js';
import { ensureCommand, messages, runCommand, startEchoClient } from './echo-e2e.util.js';

/** The seed server's answer: the same reply whatever was sent. */
const SEED_REPLY = 'Your Message has been received';

function impostorServer(): Promise<Server> {
  const impostor = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.on('data', () => socket.write(`${SEED_REPLY}\n`));
  });
  return new Promise((resolve) => impostor.listen(0, '127.0.0.1', () => resolve(impostor)));
}

function configDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'echo-config-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('echo roles, configured by env, config file and defaults', () => {
  const dirs: string[] = [];
  const topologies: Topology[] = [];
  let server: RoleProcess;
  let filePort: number;
  let impostor: Server;
  let unreachable: string;
  let seedServer: SeedServer;
  const jobs: Record<'precedence' | 'invalid' | 'wrongReplies' | 'unreachable' | 'seedServer', RoleProcess> =
    {} as never;

  const startJob = async (env: Record<string, string>): Promise<RoleProcess> => {
    const { topology, job } = await startEchoClient(env, topologies[0].databaseUrl);
    topologies.push(topology);
    return job;
  };

  beforeAll(async () => {
    filePort = await freePort();
    const serverDir = configDir({
      'echo-server.yaml': `port: ${filePort}\nbacklog: 64\nmaxLineBytes: 100\nlog:\n  level: info\n`,
    });
    const clientDir = configDir({
      'echo-client.yaml': [
        'id: file-id',
        'server:',
        `  address: "127.0.0.1:${filePort}"`,
        'loop:',
        '  lapse: "1s"',
        '  period: "150ms"',
        '',
      ].join('\n'),
    });
    const badDir = configDir({ 'echo-client.yaml': 'id: 7\nloop:\n  period: "soon"\n' });
    dirs.push(serverDir, clientDir, badDir);
    const topo = await Topology.start([
      {
        role: 'echo-server',
        // An empty ECHO_PORT counts as unset, so the file's port is the one that applies.
        env: { CONFIG_DIR: serverDir, ECHO_PORT: '', ECHO_MAX_LINE_BYTES: '50', SERVER_LISTEN_BACKLOG: '32' },
      },
    ]);
    topologies.push(topo);
    server = topo.get('echo-server');
    impostor = await impostorServer();
    seedServer = await startSeedServer();
    unreachable = `127.0.0.1:${await freePort()}`;
    const quick = { CLI_LOOP_LAPSE: '1s', CLI_LOOP_PERIOD: '100ms' };
    [jobs.precedence, jobs.invalid, jobs.wrongReplies, jobs.unreachable, jobs.seedServer] = await Promise.all(
      [
        startJob({ CONFIG_DIR: clientDir, CLI_ID: 'env-id' }),
        startJob({ CONFIG_DIR: badDir, CLI_LOOP_LAPSE: '5 minutes' }),
        startJob({
          ...quick,
          CLI_ID: 'seed',
          CLI_SERVER_ADDRESS: `127.0.0.1:${(impostor.address() as AddressInfo).port}`,
        }),
        startJob({ ...quick, CLI_ID: 'lonely', CLI_SERVER_ADDRESS: unreachable }),
        startJob({
          ...quick,
          CLI_ID: 'per-message',
          CLI_EXPECT: 'any',
          CLI_SERVER_ADDRESS: `127.0.0.1:${seedServer.port}`,
        }),
      ],
    );
  }, 120_000);
  afterAll(async () => {
    await Promise.all(topologies.map((t) => t.stop()));
    impostor?.close();
    await seedServer?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('echo-server takes env over config/echo-server.yaml over the defaults', async () => {
    const open = await server.waitForLog((l) => String(l.msg).startsWith('echo listener open'));
    expect(open).toMatchObject({
      port: filePort, // file over default
      maxLineBytes: 50, // env over file
      backlog: 32, // the seed's alias, env over file
      idleTimeoutMs: 300_000, // default
    });
    const socket = await connectTo(filePort);
    const received = readUntilClose(socket);
    socket.write(`${'x'.repeat(50)}\n${'y'.repeat(51)}\n`);
    expect((await received).toString()).toBe(`${'x'.repeat(50)}\nERROR line exceeds 50 bytes\n`);
  });

  it('echo-client takes env over config/echo-client.yaml over the defaults', async () => {
    const job = jobs.precedence;
    expect(await job.wait()).toBe(0);
    const started = job.logs().find((l) => l.msg === '[CLIENT env-id] Main loop started');
    expect(started).toMatchObject({
      id: 'env-id', // env over file
      server: `127.0.0.1:${filePort}`, // file over default (echo-server:12345)
      loopLapseMs: 1000,
      loopPeriodMs: 150,
      logLevel: 'info', // default
    });
    expect(job.logs().find((l) => l.msg === '[CLIENT env-id] Message from server')).toMatchObject({
      reply: '[CLIENT env-id] Message N°1 sent',
    });
  });

  it('echo-client stops with exit 1 naming every invalid duration, from env and from the file', async () => {
    const job = jobs.invalid;
    expect(await job.wait()).toBe(1);
    const output = job.output.join('\n');
    expect(output).toMatch(/CLI_LOOP_LAPSE: .*\(got "5 minutes"\)/);
    expect(output).toMatch(/CLI_LOOP_PERIOD \(config\/echo-client\.yaml: loop\.period\): .*\(got "soon"\)/);
  });

  it('echo-client exits 1 when a reply differs from the message sent', async () => {
    const job = jobs.wrongReplies;
    expect(await job.wait()).toBe(1);
    expect(job.logs().find((l) => l.msg === '[CLIENT seed] Message from server')).toMatchObject({
      reply: SEED_REPLY,
    });
    expect(messages(job)).toContain('[CLIENT seed] Reply differs from message N°1');
  });

  it("echo-client with CLI_EXPECT=any against the seed's own server: a connection per message, none lost, exit 0", async () => {
    const job = jobs.seedServer;
    expect(await job.wait()).toBe(0);
    const replies = job
      .logs()
      .filter((l) => l.msg === '[CLIENT per-message] Message from server')
      .map((l) => l.reply);
    expect(replies.length).toBeGreaterThan(1);
    replies.forEach((reply, i) =>
      expect(reply).toBe(seedReply(`[CLIENT per-message] Message N°${i + 1} sent`)),
    );
    expect(messages(job).filter((m) => m.includes('No reply'))).toEqual([]);
    expect(seedServer.connections()).toBeGreaterThanOrEqual(replies.length);
  });

  it('echo-client retries within the lapse and exits 1 when the server never answers', async () => {
    const job = jobs.unreachable;
    expect(await job.wait()).toBe(1);
    const msgs = messages(job);
    const failures = msgs.filter((m) => m.startsWith(`[CLIENT lonely] Could not connect to ${unreachable}`));
    expect(failures.length).toBeGreaterThan(1);
    expect(msgs).toContain(`[CLIENT lonely] Never connected to ${unreachable}`);
  });

  it('stops the echo-client job on SIGTERM: socket closed, exit 0', async () => {
    const job = await startJob({
      CLI_ID: 'sigterm',
      CLI_SERVER_ADDRESS: `127.0.0.1:${filePort}`,
      CLI_LOOP_LAPSE: '1m',
      CLI_LOOP_PERIOD: '100ms',
    });
    await job.waitForLog(
      (l) =>
        l.msg === '[CLIENT sigterm] Message from server' && l.reply === '[CLIENT sigterm] Message N°1 sent',
    );
    expect(await job.stop()).toBe(0);
    const msgs = messages(job);
    expect(msgs).toContain(`[CLIENT sigterm] closed connection to 127.0.0.1:${filePort}`);
    expect(msgs).toContain('[CLIENT sigterm] Main loop stopped');
  });

  it('docker/netcat-test.sh local fails (exit 1) when the reply is not the line it sent', async () => {
    await ensureCommand('nc', 'netcat-openbsd');
    const port = (impostor.address() as AddressInfo).port;
    const result = await runCommand('bash', ['docker/netcat-test.sh', 'local', '127.0.0.1', String(port)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^FAIL: sent "netcat check .*", got "${SEED_REPLY}"`));
  });
});
