// The echo client job (the seed's Go client): for a lapse, send a numbered line every period, log the reply and
// check it (the same bytes, or with CLI_EXPECT=any just one line). One connection serves every message while the
// server keeps it open; a server that closes after each reply (the seed's own) gets a fresh connection for the next
// message. Clock, sleep and sockets are injected so a spec can run the loop on a fake clock against a real server.
import { createConnection, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { Backoff } from '../../platform/backoff.util.js';
import type { HostPort } from '../../platform/config/parsers.js';
import type { EchoLogger } from './echo.logger.js';

export interface EchoClientConfig {
  id: string;
  server: HostPort;
  lapseMs: number;
  periodMs: number;
  /** How long to wait for a connection or a reply before giving it up; default 10 s. */
  replyTimeoutMs?: number;
  /** `echo`: a reply must be the message (the default); `any`: any one line is a reply, logged as it came. */
  expect?: EchoExpectation;
}

export const ECHO_EXPECTATIONS = ['echo', 'any'] as const;
export type EchoExpectation = (typeof ECHO_EXPECTATIONS)[number];

export interface EchoClientDeps {
  /** Milliseconds on a monotonic clock. */
  now: () => number;
  /** Waits `ms`; resolves early (never rejects) when `signal` aborts. */
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Opens a TCP connection; the job waits for its 'connect' or 'error'. */
  connect: (address: HostPort) => Socket;
  /** Jitter of the reconnect backoff, in [0, 1). */
  jitter: () => number;
  logger: EchoLogger;
}

export interface EchoClientResult {
  exitCode: 0 | 1;
  sent: number;
  /** Replies that failed the check (or never came). */
  failures: number;
  connected: boolean;
  stopped: boolean;
}

export const defaultEchoClientDeps = (logger: EchoLogger): EchoClientDeps => ({
  now: () => performance.now(),
  sleep: (ms, signal) => delay(ms, undefined, { signal }).catch(() => undefined),
  connect: (address) => createConnection({ host: address.host, port: address.port, noDelay: true }),
  jitter: Math.random,
  logger,
});

const CONNECT_BACKOFF = { initialMs: 100, maxMs: 2_000 };
const DEFAULT_REPLY_TIMEOUT_MS = 10_000;

/** One connection that answers each line written with one line; fails pending reads when it closes. */
class LineConnection {
  private buffered: Buffer[] = [];
  private waiter: { resolve: (line: Buffer) => void; reject: (err: Error) => void } | undefined;
  private failure: Error | undefined;
  private timedOut = false;
  private replies = 0;

  constructor(
    readonly socket: Socket,
    private readonly timeoutMs: number,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('connection closed by the server')));
    socket.on('timeout', () => {
      this.timedOut = true;
      socket.destroy(new Error(`no answer within ${timeoutMs} ms`));
    });
  }

  /** The server has closed (or reset) it: nothing more can be sent on it. */
  get closed(): boolean {
    return this.failure !== undefined;
  }

  /**
   * It answered before and was then closed with no byte of the next reply: the server closes after each reply and
   * the close crossed the next message on the wire, so that message was never taken and may go again.
   */
  get closedAfterAnswering(): boolean {
    return this.closed && !this.timedOut && this.replies > 0 && this.buffered.length === 0;
  }

  static open(socket: Socket, timeoutMs: number): Promise<LineConnection> {
    socket.setTimeout(timeoutMs);
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        socket.destroy();
        reject(err);
      };
      socket.once('error', onError);
      // stop() destroys a connecting socket without an error; a no-op once connected.
      socket.once('close', () => reject(new Error('connection abandoned')));
      socket.once('timeout', () => onError(new Error(`connect timed out after ${timeoutMs} ms`)));
      socket.once('connect', () => {
        socket.off('error', onError);
        socket.removeAllListeners('timeout');
        socket.setTimeout(0);
        resolve(new LineConnection(socket, timeoutMs));
      });
    });
  }

  request(line: Buffer): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    const reply = new Promise<Buffer>((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
    this.socket.setTimeout(this.timeoutMs);
    this.socket.write(Buffer.concat([line, Buffer.from('\n')]));
    return reply;
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buffered.push(chunk);
    const all = this.buffered.length === 1 ? chunk : Buffer.concat(this.buffered);
    const nl = all.indexOf(0x0a);
    if (nl === -1) {
      this.buffered = [all];
      return;
    }
    this.buffered = nl + 1 < all.length ? [all.subarray(nl + 1)] : [];
    const waiter = this.waiter;
    this.waiter = undefined;
    this.socket.setTimeout(0);
    this.replies++;
    waiter?.resolve(all.subarray(0, nl));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(err);
  }
}

export class EchoClientJob {
  private readonly abort = new AbortController();
  private connection: LineConnection | undefined;
  /** A socket still connecting, so stop() can abandon it at once. */
  private connecting: Socket | undefined;
  private running: Promise<EchoClientResult> | undefined;
  private stopped = false;
  private readonly tag: string;
  private readonly address: string;

  constructor(
    private readonly config: EchoClientConfig,
    private readonly deps: EchoClientDeps,
  ) {
    this.tag = `[CLIENT ${config.id}]`;
    this.address = `${config.server.host}:${config.server.port}`;
  }

  /** Runs the loop once; calling it again returns the same run. */
  run(): Promise<EchoClientResult> {
    this.running ??= this.loop();
    return this.running;
  }

  /** SIGTERM: stop the loop, close the socket, and resolve with the run's result (exit 0 unless a reply differed). */
  stop(): Promise<EchoClientResult> {
    this.stopped = true;
    this.abort.abort();
    this.connection?.close();
    this.connecting?.destroy();
    return this.run();
  }

  private async loop(): Promise<EchoClientResult> {
    const { now, sleep, logger } = this.deps;
    const deadline = now() + this.config.lapseMs;
    let sent = 0;
    let failures = 0;
    let connected = false;
    while (!this.stopped && now() < deadline) {
      // A server that closes after each reply has closed this one by now: dial again for the next message.
      if (this.connection?.closed) this.dropConnection();
      if (!this.connection) {
        this.connection = await this.connectWithin(deadline);
        if (!this.connection) break;
        connected = true;
        if (this.stopped) break;
      }
      sent++;
      const message = Buffer.from(`${this.tag} Message N°${sent} sent`);
      try {
        const reply = await this.exchange(message, deadline);
        logger.info({ reply: reply.toString('utf8') }, `${this.tag} Message from server`);
        if (this.config.expect !== 'any' && !reply.equals(message)) {
          failures++;
          logger.error(`${this.tag} Reply differs from message N°${sent}`);
        }
      } catch (err) {
        this.dropConnection();
        if (this.stopped) break;
        failures++;
        logger.error(`${this.tag} No reply to message N°${sent}: ${(err as Error).message}`);
      }
      await sleep(this.config.periodMs, this.abort.signal);
    }
    this.dropConnection();
    if (this.stopped) {
      logger.info(`${this.tag} Main loop stopped`);
    } else {
      if (!connected) logger.error(`${this.tag} Never connected to ${this.address}`);
      logger.info(`${this.tag} Main loop finished`);
    }
    const ok = failures === 0 && (connected || this.stopped);
    return { exitCode: ok ? 0 : 1, sent, failures, connected, stopped: this.stopped };
  }

  /** Sends one message and reads its reply; once more on a fresh connection if the close crossed the message. */
  private async exchange(message: Buffer, deadline: number): Promise<Buffer> {
    const first = this.connection!;
    try {
      return await first.request(message);
    } catch (err) {
      if (this.stopped || !first.closedAfterAnswering) throw err;
      this.dropConnection();
      this.connection = await this.connectWithin(deadline);
      if (!this.connection) throw err;
      return await this.connection.request(message);
    }
  }

  /** Connects, retrying with exponential backoff until the deadline; undefined if it never succeeds. */
  private async connectWithin(deadline: number): Promise<LineConnection | undefined> {
    const { now, sleep, connect, logger } = this.deps;
    const backoff = new Backoff(CONNECT_BACKOFF, this.deps.jitter);
    while (!this.stopped) {
      try {
        this.connecting = connect(this.config.server);
        const conn = await LineConnection.open(
          this.connecting,
          this.config.replyTimeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS,
        );
        logger.debug(`${this.tag} Connected to ${this.address}`);
        return conn;
      } catch (err) {
        if (this.stopped) return undefined;
        const left = deadline - now();
        if (left <= 0) {
          logger.error(`${this.tag} Could not connect to ${this.address}: ${(err as Error).message}`);
          return undefined;
        }
        const wait = Math.min(backoff.next(), left);
        logger.warn(
          `${this.tag} Could not connect to ${this.address}: ${(err as Error).message}; retrying in ${Math.round(wait)} ms`,
        );
        await sleep(wait, this.abort.signal);
      } finally {
        this.connecting = undefined;
      }
    }
    return undefined;
  }

  private dropConnection(): void {
    if (!this.connection) return;
    this.connection.close();
    this.connection = undefined;
    this.deps.logger.info(`${this.tag} closed connection to ${this.address}`);
  }
}
