// Newline-delimited TCP echo server on raw `node:net`. It works on Buffers only (bytes that are not UTF-8 pass
// unchanged) and keeps the hot path allocation-free: a chunk made only of complete lines is written back as is, so
// a ping-pong costs one indexOf and one write, the same as a socket piped to itself.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { EchoLogger } from './echo.logger.js';

const NEWLINE = 0x0a;
/** Pending fragments are merged past this count so a line sent byte by byte does not become a huge writev. */
const MAX_PENDING_FRAGMENTS = 64;
/** How long a rejected connection may keep sending before it is cut off (its input is discarded meanwhile). */
const REJECT_LINGER_MS = 2000;

export interface EchoServerOptions {
  /** 0 picks a free port (tests); `port` reports the bound one after listen(). */
  port: number;
  /** Interface to bind; all interfaces when omitted. */
  host?: string;
  backlog?: number;
  /** A connection with no traffic for this long is closed; 0 disables the timeout. */
  idleTimeoutMs?: number;
  /** A line longer than this (not counting the newline) gets one error line and its connection is closed. */
  maxLineBytes?: number;
}

export interface EchoStats {
  openConnections: number;
  totalConnections: number;
  linesEchoed: number;
  /** Bytes written back, newlines included. */
  bytesEchoed: number;
  oversizedLines: number;
  idleTimeouts: number;
}

export const ECHO_DEFAULTS = { backlog: 511, idleTimeoutMs: 300_000, maxLineBytes: 65_536 } as const;

/** Per-connection state; a class (not a closure bag) so V8 keeps one hidden shape for thousands of them. */
class Connection {
  /** Bytes of a line not yet terminated, as received (no copy until the line completes). */
  pending: Buffer[] = [];
  pendingBytes = 0;
  /** Set once the connection is being closed: further input is read and dropped. */
  discarding = false;
  readonly resume = (): void => {
    this.socket.resume();
  };

  constructor(
    readonly socket: Socket,
    /** Captured at accept time: a closed socket no longer knows its peer. */
    readonly peer: string,
  ) {}
}

function formatPeer(address: string | undefined, port: number | undefined): string {
  const ip = (address ?? 'unknown').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** Resolves after the event loop has polled the sockets once more, so bytes already in kernel buffers are read. */
function nextPoll(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

export class EchoServer {
  private readonly server: Server;
  private readonly connections = new Set<Connection>();
  private readonly backlog: number;
  private readonly idleTimeoutMs: number;
  private readonly maxLineBytes: number;
  private readonly errorLine: Buffer;
  private boundPort = 0;
  private closing: Promise<void> | undefined;
  private allClosed: (() => void) | undefined;
  /** Input seen, only to tell when the kernel queues have run dry during shutdown. */
  private bytesReceived = 0;
  private readonly counters: EchoStats = {
    openConnections: 0,
    totalConnections: 0,
    linesEchoed: 0,
    bytesEchoed: 0,
    oversizedLines: 0,
    idleTimeouts: 0,
  };

  constructor(
    private readonly options: EchoServerOptions,
    private readonly logger: EchoLogger,
  ) {
    this.backlog = options.backlog ?? ECHO_DEFAULTS.backlog;
    this.idleTimeoutMs = options.idleTimeoutMs ?? ECHO_DEFAULTS.idleTimeoutMs;
    this.maxLineBytes = options.maxLineBytes ?? ECHO_DEFAULTS.maxLineBytes;
    this.errorLine = Buffer.from(`ERROR line exceeds ${this.maxLineBytes} bytes\n`);
    this.server = createServer({ noDelay: true }, (socket) => this.accept(socket));
  }

  /** Starts listening; resolves with the bound port. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen({ port: this.options.port, host: this.options.host, backlog: this.backlog }, () => {
        this.server.off('error', onError);
        this.server.on('error', (err) => this.logger.error(`echo listener error: ${err.message}`));
        this.boundPort = (this.server.address() as AddressInfo).port;
        resolve(this.boundPort);
      });
    });
  }

  /** The bound port (0 before listen()). */
  get port(): number {
    return this.boundPort;
  }

  get listening(): boolean {
    return this.server.listening;
  }

  stats(): EchoStats {
    return { ...this.counters };
  }

  /**
   * Graceful stop: stop accepting, answer every complete line already received, then end each client socket and
   * wait for it to close (destroying whatever is still open after `graceMs`), then close the listener. Logs
   * `closed client <ip>:<port>` once per client and `closed listener :<port>` last. Idempotent.
   */
  close(graceMs: number): Promise<void> {
    this.closing ??= this.shutdown(graceMs);
    return this.closing;
  }

  private async shutdown(graceMs: number): Promise<void> {
    const started = performance.now();
    // Clients whose handshake is done wait in the kernel's accept queue, and their lines in socket buffers; libuv
    // accepts only a few per loop turn, so keep polling until a turn brings nothing new (bounded by half the grace).
    await this.drainKernelQueues(graceMs / 2);
    const listenerClosed = new Promise<void>((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
    });
    await nextPoll();
    const clientsClosed = new Promise<void>((resolve) => {
      this.allClosed = resolve;
      if (this.connections.size === 0) resolve();
    });
    for (const conn of this.connections) this.finish(conn);
    const deadline = setTimeout(
      () => {
        for (const conn of this.connections) conn.socket.destroy();
      },
      Math.max(0, graceMs - (performance.now() - started)),
    );
    // The listener's own 'close' fires before the sockets' 'close' events, so wait for both.
    await Promise.all([listenerClosed, clientsClosed]);
    clearTimeout(deadline);
    if (this.boundPort !== 0) this.logger.info(`closed listener :${this.boundPort}`);
  }

  private async drainKernelQueues(budgetMs: number): Promise<void> {
    const until = performance.now() + budgetMs;
    let seen = -1;
    while (performance.now() < until) {
      const activity = this.counters.totalConnections + this.bytesReceived;
      if (activity === seen) return;
      seen = activity;
      await nextPoll();
    }
  }

  private accept(socket: Socket): void {
    const conn = new Connection(socket, formatPeer(socket.remoteAddress, socket.remotePort));
    this.connections.add(conn);
    this.counters.openConnections++;
    this.counters.totalConnections++;
    if (this.idleTimeoutMs > 0) socket.setTimeout(this.idleTimeoutMs, () => this.onIdle(conn));
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    // Resets and broken pipes are the peer's business; 'close' follows and does the bookkeeping.
    socket.on('error', (err) => this.logger.debug(`client ${conn.peer}: ${err.message}`));
    socket.on('close', () => this.onClose(conn));
  }

  private onData(conn: Connection, chunk: Buffer): void {
    this.bytesReceived += chunk.length;
    if (conn.discarding) return;
    const max = this.maxLineBytes;
    let nl = chunk.indexOf(NEWLINE);
    if (nl === -1) {
      this.hold(conn, chunk, 0);
      return;
    }
    if (conn.pendingBytes + nl > max) {
      this.reject(conn);
      return;
    }
    let lines = 1;
    let end = nl + 1;
    let oversized = false;
    while ((nl = chunk.indexOf(NEWLINE, end)) !== -1) {
      if (nl - end > max) {
        oversized = true;
        break;
      }
      lines++;
      end = nl + 1;
    }
    const head = end === chunk.length ? chunk : chunk.subarray(0, end);
    let out = head;
    if (conn.pendingBytes > 0) {
      conn.pending.push(head);
      out = Buffer.concat(conn.pending, conn.pendingBytes + end);
      conn.pending = [];
      conn.pendingBytes = 0;
    }
    this.counters.linesEchoed += lines;
    this.counters.bytesEchoed += out.length;
    if (!conn.socket.write(out)) {
      // The peer is not reading: stop reading from it too, so its input cannot pile up in memory.
      conn.socket.pause();
      conn.socket.once('drain', conn.resume);
    }
    if (oversized) this.reject(conn);
    else if (end < chunk.length) this.hold(conn, chunk, end);
  }

  /** Keeps the unterminated tail of a chunk until its newline arrives. */
  private hold(conn: Connection, chunk: Buffer, from: number): void {
    const bytes = chunk.length - from;
    if (conn.pendingBytes + bytes > this.maxLineBytes) {
      this.reject(conn);
      return;
    }
    conn.pending.push(from === 0 ? chunk : chunk.subarray(from));
    conn.pendingBytes += bytes;
    if (conn.pending.length > MAX_PENDING_FRAGMENTS)
      conn.pending = [Buffer.concat(conn.pending, conn.pendingBytes)];
  }

  private reject(conn: Connection): void {
    this.counters.oversizedLines++;
    this.logger.warn(`client ${conn.peer} sent a line over ${this.maxLineBytes} bytes; closing it`);
    conn.socket.write(this.errorLine);
    this.finish(conn);
    // Input is still read (and dropped) so the kernel sends a clean FIN rather than a reset that could destroy
    // the error line in flight; a peer that never stops sending is cut off.
    setTimeout(() => conn.socket.destroy(), REJECT_LINGER_MS).unref();
  }

  /** Ends our side after pending writes flush; the socket closes when the peer answers with its FIN. */
  private finish(conn: Connection): void {
    if (conn.discarding) return;
    conn.discarding = true;
    conn.pending = [];
    conn.pendingBytes = 0;
    conn.socket.resume();
    conn.socket.end();
  }

  private onIdle(conn: Connection): void {
    this.counters.idleTimeouts++;
    this.logger.debug(`client ${conn.peer} idle for ${this.idleTimeoutMs} ms; closing it`);
    conn.socket.destroy();
  }

  private onClose(conn: Connection): void {
    this.connections.delete(conn);
    this.counters.openConnections--;
    if (this.closing) {
      this.logger.info(`closed client ${conn.peer}`);
      if (this.connections.size === 0) this.allClosed?.();
    } else {
      this.logger.debug(`client ${conn.peer} disconnected`);
    }
  }
}
