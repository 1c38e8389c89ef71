// One client connection speaking the Nest TCP wire format (`<length>#<json>` frames, `{pattern,data,id,metadata}`
// requests, `{id,response,err,isDisposed}` replies), with many calls in flight matched by packet id, as the stock
// ClientTCP does too. What differs from ClientTCP: it dials at once and redials in the background with jittered
// backoff, where ClientTCP dials on the first call after a close and makes that call wait for the dial; a call while
// the peer is down fails at once with a 503; every call has its own timeout (ClientTCP has none, callers add an rxjs
// timeout); calls are plain promises rather than an rxjs pipeline each; writes are corked until the next event-loop
// turn, so a burst of calls is one syscall; and frames beyond maxMessageChars are refused either way.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { StringDecoder } from 'node:string_decoder';
import { Backoff } from '../backoff.util.js';
import { AppError } from '../errors/app-error.js';
import { corkUntilNextTurn } from './cork.js';

export type ConnectionState = 'connecting' | 'up' | 'down' | 'closed';

export interface ConnectionOptionsBase {
  host: string;
  port: number;
  tls?: ConnectionOptions;
  /** Largest frame accepted or sent, in characters of JSON. */
  maxMessageChars: number;
  onStateChange?: (state: ConnectionState, err?: Error) => void;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

const RECONNECT_BACKOFF = { initialMs: 100, maxMs: 2000 };

export function unavailable(target: string, why: string): AppError {
  return new AppError(503, 'peer_unavailable', `${target} is unavailable: ${why}`);
}

export class TcpConnection {
  state: ConnectionState = 'down';
  private socket?: Socket;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private buffer = '';
  private expected = -1;
  private readonly decoder = new StringDecoder('utf8');
  private readonly backoff = new Backoff(RECONNECT_BACKOFF);
  private reconnectTimer?: NodeJS.Timeout;
  private waiters: Array<(ok: boolean) => void> = [];
  private lastError = 'not connected yet';

  constructor(private readonly opts: ConnectionOptionsBase) {}

  get address(): string {
    return `${this.opts.host}:${this.opts.port}`;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  start(): void {
    if (this.state === 'down' && !this.reconnectTimer) this.open();
  }

  private setState(state: ConnectionState, err?: Error): void {
    if (this.state === state) return;
    this.state = state;
    this.opts.onStateChange?.(state, err);
  }

  private open(): void {
    this.setState('connecting');
    const { host, port, tls } = this.opts;
    const socket = tls ? tlsConnect({ host, port, ...tls }) : netConnect({ host, port });
    socket.setNoDelay(true);
    this.socket = socket;
    this.buffer = '';
    this.expected = -1;
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      this.backoff.reset();
      this.setState('up');
      this.flushWaiters(true);
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => {
      this.lastError = (err as NodeJS.ErrnoException).code ?? err.message;
    });
    socket.on('close', () => this.onClose());
  }

  private onClose(): void {
    this.socket = undefined;
    const why = this.lastError;
    this.failAll(unavailable(this.address, `connection closed (${why})`));
    this.flushWaiters(false);
    if (this.state === 'closed') return;
    this.setState('down', new Error(why));
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.state === 'down') this.open();
    }, this.backoff.next());
    this.reconnectTimer.unref();
  }

  private flushWaiters(ok: boolean): void {
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((w) => w(ok));
  }

  private failAll(err: Error): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(err);
    }
  }

  private onData(chunk: Buffer): void {
    this.buffer += this.decoder.write(chunk);
    for (;;) {
      if (this.expected < 0) {
        const hash = this.buffer.indexOf('#');
        if (hash < 0) {
          if (this.buffer.length > 20) return this.protocolError('corrupted frame length');
          return;
        }
        const len = Number(this.buffer.slice(0, hash));
        if (!Number.isSafeInteger(len) || len < 0) return this.protocolError('corrupted frame length');
        if (len > this.opts.maxMessageChars)
          return this.protocolError(`reply of ${len} chars exceeds the limit`);
        this.expected = len;
        this.buffer = this.buffer.slice(hash + 1);
      }
      if (this.buffer.length < this.expected) return;
      const frame = this.buffer.slice(0, this.expected);
      this.buffer = this.buffer.slice(this.expected);
      this.expected = -1;
      this.onFrame(frame);
    }
  }

  private protocolError(why: string): void {
    this.lastError = why;
    this.socket?.destroy();
  }

  private onFrame(frame: string): void {
    let packet: {
      id?: number | string;
      response?: unknown;
      err?: unknown;
      isDisposed?: boolean;
      status?: string;
    };
    try {
      packet = JSON.parse(frame);
    } catch {
      return this.protocolError('invalid JSON frame');
    }
    const id = Number(packet.id);
    const p = this.pending.get(id);
    if (!p) return;
    if (packet.err !== undefined && packet.err !== null) {
      this.settle(id, p);
      const err = packet.err;
      p.reject(typeof err === 'string' ? new AppError(502, 'rpc_error', err) : AppError.fromWire(err));
    } else if ('response' in packet || packet.isDisposed) {
      this.settle(id, p);
      p.resolve(packet.response);
    }
  }

  private settle(id: number, p: Pending): void {
    clearTimeout(p.timer);
    this.pending.delete(id);
  }

  /** Waits for the connection when it is being opened; fails at once when the peer is known to be down. */
  private async ready(timeoutMs: number): Promise<void> {
    if (this.state === 'up') return;
    if (this.state === 'closed') throw unavailable(this.address, 'client closed');
    if (this.state === 'down') throw unavailable(this.address, this.lastError);
    const ok = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.waiters.push((v) => {
        clearTimeout(timer);
        resolve(v);
      });
    });
    if (!ok) throw unavailable(this.address, this.lastError);
  }

  async send(
    pattern: string,
    data: unknown,
    metadata: Record<string, string>,
    timeoutMs: number,
  ): Promise<unknown> {
    await this.ready(timeoutMs);
    const id = this.nextId++;
    const json = JSON.stringify({ pattern, data, id, metadata });
    if (json.length > this.opts.maxMessageChars) {
      throw new AppError(
        413,
        'message_too_large',
        `request of ${json.length} chars exceeds RPC_MAX_MESSAGE_BYTES`,
      );
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new AppError(504, 'rpc_timeout', `${pattern} to ${this.address} timed out after ${timeoutMs} ms`),
        );
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      corkUntilNextTurn(this.socket!);
      this.socket!.write(`${json.length}#${json}`);
    });
  }

  /** Stops reconnecting, fails what is pending and closes the socket. */
  async close(): Promise<void> {
    this.setState('closed');
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.failAll(unavailable(this.address, 'client closed'));
    const socket = this.socket;
    if (!socket) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.end();
      setTimeout(() => socket.destroy(), 500).unref();
    });
  }
}
