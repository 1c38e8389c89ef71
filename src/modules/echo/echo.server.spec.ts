import type { Socket } from 'node:net';
import { EchoServer, type EchoServerOptions } from './echo.server.js';
import {
  connectionPayload,
  connectTo,
  echoInPieces,
  lines,
  readBytes,
  readUntilClose,
  recordingLogger,
  writeAll,
  type RecordingLogger,
} from '../../../test/echo/echo.fixtures.js';

describe(EchoServer.name, () => {
  let server: EchoServer;
  let log: RecordingLogger;
  let port: number;
  const sockets: Socket[] = [];

  async function start(options: Partial<EchoServerOptions> = {}): Promise<void> {
    log = recordingLogger();
    server = new EchoServer({ port: 0, host: '127.0.0.1', backlog: 2048, ...options }, log);
    port = await server.listen();
  }

  async function client(): Promise<Socket> {
    const socket = await connectTo(port);
    sockets.push(socket);
    return socket;
  }

  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await server?.close(1000);
  });

  it('echoes a line byte for byte followed by a newline', async () => {
    await start();
    const socket = await client();
    socket.write(lines.hello);
    expect((await readBytes(socket, lines.hello.length)).toString()).toBe('hello\n');
  });

  it('echoes many lines on one connection and counts them', async () => {
    await start();
    const socket = await client();
    const sent = Buffer.from('one\ntwo\r\n\nfour\n');
    socket.write(sent);
    expect(await readBytes(socket, sent.length)).toEqual(sent);
    expect(server.stats()).toMatchObject({ linesEchoed: 4, bytesEchoed: sent.length, openConnections: 1 });
  });

  it('echoes bytes that are not valid UTF-8 unchanged', async () => {
    await start();
    const socket = await client();
    socket.write(lines.invalidUtf8);
    expect(await readBytes(socket, lines.invalidUtf8.length)).toEqual(lines.invalidUtf8);
  });

  it('echoes every byte value except the newline that ends the line', async () => {
    await start();
    const socket = await client();
    const all = Buffer.from([...Array(256).keys()].filter((b) => b !== 0x0a).concat(0x0a));
    socket.write(all);
    expect(await readBytes(socket, all.length)).toEqual(all);
  });

  it('reassembles a line sent one byte per write', async () => {
    await start();
    const socket = await client();
    const line = Buffer.from('split into single bytes ñ\n');
    for (const byte of line) {
      await writeAll(socket, Buffer.from([byte]));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await readBytes(socket, line.length)).toEqual(line);
    expect(server.stats().linesEchoed).toBe(1);
  });

  it('serves 1,000 concurrent connections echoing 100 lines each, every byte checked', async () => {
    await start();
    const connections = 1000;
    const perConnection = 100;
    const results = await Promise.all(
      Array.from({ length: connections }, async (_, c) => {
        const payload = connectionPayload(c, perConnection);
        return (await echoInPieces(await client(), payload)).equals(payload);
      }),
    );
    expect(results.filter((ok) => !ok)).toHaveLength(0);
    expect(server.stats()).toMatchObject({
      totalConnections: connections,
      linesEchoed: connections * perConnection,
    });
  });

  it('answers an oversized line with one error line and closes only that connection', async () => {
    await start({ maxLineBytes: 1024 });
    const bystander = await client();
    const offender = await client();
    const offenderReceived = readUntilClose(offender);
    offender.write(
      Buffer.concat([Buffer.from('fine\n'), Buffer.alloc(3000, 0x61), Buffer.from('\nafter\n')]),
    );
    expect((await offenderReceived).toString()).toBe('fine\nERROR line exceeds 1024 bytes\n');

    bystander.write('still here\n');
    expect((await readBytes(bystander, 11)).toString()).toBe('still here\n');
    expect(server.stats()).toMatchObject({ oversizedLines: 1, openConnections: 1 });
  });

  it('accepts a line of exactly the maximum length, even when it arrives in pieces', async () => {
    await start({ maxLineBytes: 100 });
    const socket = await client();
    const line = Buffer.concat([Buffer.alloc(100, 0x63), Buffer.from('\n')]);
    await writeAll(socket, line.subarray(0, 60));
    await new Promise((resolve) => setImmediate(resolve));
    socket.write(line.subarray(60));
    expect(await readBytes(socket, line.length)).toEqual(line);
    expect(server.stats().oversizedLines).toBe(0);
  });

  it('rejects an unterminated line as soon as it passes the limit', async () => {
    await start({ maxLineBytes: 100 });
    const offender = await client();
    const received = readUntilClose(offender);
    offender.write(Buffer.alloc(101, 0x62));
    expect((await received).toString()).toBe('ERROR line exceeds 100 bytes\n');
  });

  it('keeps serving others while a connection sits idle with half a line', async () => {
    await start({ idleTimeoutMs: 0 });
    const idle = await client();
    idle.write('no newline yet');
    const busy = await client();
    busy.write('served\n');
    expect((await readBytes(busy, 7)).toString()).toBe('served\n');
    expect(server.stats().openConnections).toBe(2);
  });

  it('closes a connection that stays idle past the timeout', async () => {
    await start({ idleTimeoutMs: 100 });
    const idle = await client();
    expect(await readUntilClose(idle)).toHaveLength(0);
    await log.waitFor(/disconnected/);
    expect(server.stats()).toMatchObject({ idleTimeouts: 1, openConnections: 0 });
  });

  describe('close()', () => {
    it('answers every complete line received, then logs one line per client and the listener', async () => {
      await start();
      const clients = await Promise.all(Array.from({ length: 100 }, () => client()));
      const sent = clients.map((_, i) => Buffer.from(`client ${i} line 1\nclient ${i} line 2\n`));
      const expectedClients = clients.map((s) => `closed client 127.0.0.1:${s.localPort}`).sort();
      const received = clients.map((s) => readUntilClose(s));
      // Wait until every write sits in the kernel, then close in the same tick: nothing has been read yet.
      await Promise.all(clients.map((s, i) => writeAll(s, Buffer.concat([sent[i], Buffer.from('partial')]))));
      await server.close(5000);

      const replies = await Promise.all(received);
      expect(replies.filter((r, i) => !r.equals(sent[i]))).toHaveLength(0);
      const closes = log.messages('info');
      expect(closes.slice(0, -1).sort()).toEqual(expectedClients);
      expect(closes.at(-1)).toBe(`closed listener :${port}`);
      expect(server.listening).toBe(false);
    });

    it('destroys clients that do not close their side within the grace period', async () => {
      await start();
      const stubborn = await connectTo(port);
      sockets.push(stubborn);
      // allowHalfOpen keeps our side open after the server's FIN, as a misbehaving peer would.
      const halfOpen = await new Promise<Socket>((resolve) => {
        const s = new (stubborn.constructor as typeof Socket)({ allowHalfOpen: true });
        s.connect(port, '127.0.0.1', () => resolve(s));
      });
      sockets.push(halfOpen);
      await server.close(200);
      expect(log.messages('info')).toHaveLength(3);
      expect(server.stats().openConnections).toBe(0);
    });

    it('refuses new connections once closing', async () => {
      await start();
      await server.close(100);
      await expect(connectTo(port)).rejects.toThrow(/ECONNREFUSED/);
    });
  });
});
