// The echo-server role as a real process (ROLE=all in `single`, ROLE=echo-server in `multi`), driven over raw TCP,
// by the host's nc and by echo-client job processes. SIGTERM runs last: it ends the process.
import type { Socket } from 'node:net';
import request from 'supertest';
import { Topology, TOPOLOGIES, type RoleProcess } from '../harness/topology.js';
import {
  connectionPayload,
  connectTo,
  echoInPieces,
  lines,
  readBytes,
  readUntilClose,
  writeAll,
} from './echo.fixtures.js';
import { ensureCommand, messages, runCommand, startEchoClient } from './echo-e2e.util.js';

const IDLE_TIMEOUT_MS = 2500;

describe.each(TOPOLOGIES)('echo-server role, %s topology', (kind) => {
  let topo: Topology;
  let server: RoleProcess;
  let echoPort: number;
  const sockets: Socket[] = [];

  const client = async (): Promise<Socket> => {
    const socket = await connectTo(echoPort);
    sockets.push(socket);
    return socket;
  };
  const stats = async () => (await request(server.url).get('/echo/stats').expect(200)).body;

  beforeAll(async () => {
    await ensureCommand('nc', 'netcat-openbsd');
    topo = await Topology.startKind(kind, ['echo-server'], {
      env: {
        ECHO_BACKLOG: '2048',
        ECHO_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS),
      },
    });
    server = topo.host('echo-server');
    echoPort = server.echoPort;
  }, 180_000);
  afterEach(() => {
    for (const s of sockets.splice(0)) s.destroy();
  });
  afterAll(() => topo?.stop());

  it('reports readiness only with the echo listener open', async () => {
    const res = await request(server.url).get('/health/ready').expect(200);
    expect(res.body.details['echo-listener']).toMatchObject({ status: 'up', port: echoPort });
  });

  it('GET /echo/stats counts connections, lines and bytes', async () => {
    const before = await stats();
    const socket = await client();
    socket.write('a\nbb\nccc\n');
    expect((await readBytes(socket, 9)).toString()).toBe('a\nbb\nccc\n');
    expect((await stats()).openConnections).toBe(before.openConnections + 1);
    socket.end();
    await readUntilClose(socket);
    const after = await stats();
    expect(after).toMatchObject({
      totalConnections: before.totalConnections + 1,
      linesEchoed: before.linesEchoed + 3,
      bytesEchoed: before.bytesEchoed + 9,
    });
  });

  it('answers docker/netcat-test.sh local with the line it sent', async () => {
    const before = await stats();
    const result = await runCommand('bash', [
      'docker/netcat-test.sh',
      'local',
      '127.0.0.1',
      String(echoPort),
    ]);
    expect(result).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(/^OK: echo-server answered "netcat check /),
    });
    expect((await stats()).linesEchoed).toBe(before.linesEchoed + 1);
  });

  it('serves 1,000 concurrent connections echoing 100 lines each, every byte checked', async () => {
    const connections = 1000;
    const perConnection = 100;
    const before = await stats();
    const failed = await Promise.all(
      Array.from({ length: connections }, async (_, c) => {
        const payload = connectionPayload(c, perConnection);
        return (await echoInPieces(await client(), payload)).equals(payload) ? [] : [c];
      }),
    );
    expect(failed.flat()).toEqual([]);
    expect(await stats()).toMatchObject({
      totalConnections: before.totalConnections + connections,
      linesEchoed: before.linesEchoed + connections * perConnection,
    });
  });

  it('echoes bytes that are not valid UTF-8, and every other byte value, unchanged', async () => {
    const socket = await client();
    const binary = Buffer.concat([
      Buffer.from(Array.from({ length: 256 }, (_, b) => b).filter((b) => b !== 0x0a)),
      Buffer.from('\n'),
    ]);
    socket.write(Buffer.concat([lines.invalidUtf8, binary]));
    expect(await readBytes(socket, lines.invalidUtf8.length + binary.length)).toEqual(
      Buffer.concat([lines.invalidUtf8, binary]),
    );
  });

  it('reassembles a line sent one byte per write', async () => {
    const socket = await client();
    const line = Buffer.from('split across many packets, ñ included\n');
    for (const byte of line) await writeAll(socket, Buffer.from([byte]));
    expect(await readBytes(socket, line.length)).toEqual(line);
  });

  it('answers an oversized line with one error line, closes that connection and serves the others', async () => {
    const bystander = await client();
    const offender = await client();
    const received = readUntilClose(offender);
    offender.write(Buffer.concat([Buffer.from('fine\n'), Buffer.alloc(70_000, 0x61), Buffer.from('\n')]));
    expect((await received).toString()).toBe('fine\nERROR line exceeds 65536 bytes\n');
    bystander.write('still here\n');
    expect((await readBytes(bystander, 11)).toString()).toBe('still here\n');
  });

  it('serves others while a connection sits idle, and closes the idle one after ECHO_IDLE_TIMEOUT_MS', async () => {
    const before = await stats();
    const idle = await client();
    const idleClosed = readUntilClose(idle);
    const halfLine = await client();
    halfLine.write('no newline yet');
    const busy = await client();
    for (let i = 0; i < 10; i++) {
      busy.write(`busy ${i}\n`);
      expect((await readBytes(busy, 7)).toString()).toBe(`busy ${i}\n`);
    }
    expect(await idleClosed).toHaveLength(0);
    expect((await stats()).idleTimeouts).toBeGreaterThanOrEqual(before.idleTimeouts + 1);
  });

  it('runs the echo-client job against it as a separate process: exit 0 and its log lines', async () => {
    const id = `e2e-${kind}`;
    const { topology, job } = await startEchoClient(
      // The deployment files' peer convention, an alias of CLI_SERVER_ADDRESS.
      {
        CLI_ID: id,
        ECHO_SERVER_ADDR: `127.0.0.1:${echoPort}`,
        CLI_LOOP_LAPSE: '1s',
        CLI_LOOP_PERIOD: '100ms',
      },
      topo.databaseUrl,
    );
    try {
      expect(await job.wait()).toBe(0);
      const msgs = messages(job);
      const replies = job
        .logs()
        .filter((l) => l.msg === `[CLIENT ${id}] Message from server`)
        .map((l) => l.reply);
      expect(replies.slice(0, 2)).toEqual([
        `[CLIENT ${id}] Message N°1 sent`,
        `[CLIENT ${id}] Message N°2 sent`,
      ]);
      expect(msgs).toContain(`[CLIENT ${id}] Main loop finished`);
      expect(job.logs().filter((l) => l.level === 'error')).toEqual([]);
    } finally {
      await topology.stop();
    }
  });

  it('on SIGTERM with 100 open connections answers every complete line, logs each close and exits 0', async () => {
    const clients = await Promise.all(Array.from({ length: 100 }, () => client()));
    const sent = clients.map((_, i) => Buffer.from(`client ${i} line 1\nclient ${i} line 2\n`));
    const expectedCloses = clients.map((s) => `closed client 127.0.0.1:${s.localPort}`);
    const received = clients.map((s) => readUntilClose(s));
    // Every write is in the kernel before the signal; the unterminated tail is not a line and gets no answer.
    await Promise.all(clients.map((s, i) => writeAll(s, Buffer.concat([sent[i], Buffer.from('partial')]))));
    server.signal('SIGTERM');

    const replies = await Promise.all(received);
    expect(replies.map((r, i) => (r.equals(sent[i]) ? null : i)).filter((i) => i !== null)).toEqual([]);
    expect(await server.wait()).toBe(0);
    const closes = messages(server).filter((m) => m.startsWith('closed client '));
    expect(closes.sort()).toEqual(expectedCloses.sort());
    expect(messages(server)).toContain(`closed listener :${echoPort}`);
  });
});
