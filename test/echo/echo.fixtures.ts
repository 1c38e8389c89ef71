// Shared fixtures for the echo specs: a logger that records, TCP client helpers, a seeded byte generator and a
// server process that behaves like the seed's own.
import { spawn } from 'node:child_process';
import { createConnection, type Socket } from 'node:net';
import { resolve } from 'node:path';
import type { EchoLogger } from '../../src/modules/echo/echo.logger.js';

export type LogLevelName = 'info' | 'warn' | 'error' | 'debug';

interface Entry {
  level: LogLevelName;
  message: string;
  fields?: Record<string, unknown>;
}

export interface RecordingLogger extends EchoLogger {
  readonly entries: Entry[];
  /** Messages logged at `level` (all levels when omitted), in order. */
  messages(level?: LogLevelName): string[];
  /** The `reply` field of each line that logged one, in order. */
  replies(): unknown[];
  /** Resolves once a message matching `pattern` has been logged. */
  waitFor(pattern: RegExp): Promise<string>;
}

/** An entry matches by its message or by one of its string fields (a reply is logged as a field). */
function matches(e: Entry, pattern: RegExp): boolean {
  return [e.message, ...Object.values(e.fields ?? {})].some((t) => typeof t === 'string' && pattern.test(t));
}

export function recordingLogger(): RecordingLogger {
  const entries: Entry[] = [];
  const waiters: { pattern: RegExp; resolve: (m: string) => void }[] = [];
  const record = (level: LogLevelName) => (first: string | Record<string, unknown>, second?: string) => {
    const [message, fields] = typeof first === 'string' ? [first, undefined] : [String(second), first];
    const entry: Entry = { level, message, ...(fields ? { fields } : {}) };
    entries.push(entry);
    for (const w of waiters.filter((w) => matches(entry, w.pattern))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(message);
    }
  };
  return {
    entries,
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
    debug: record('debug'),
    messages: (level) =>
      entries.filter((e) => level === undefined || e.level === level).map((e) => e.message),
    replies: () => entries.filter((e) => e.fields && 'reply' in e.fields).map((e) => e.fields!.reply),
    waitFor: (pattern) => {
      const found = entries.find((e) => matches(e, pattern));
      if (found) return Promise.resolve(found.message);
      return new Promise((resolve) => waiters.push({ pattern, resolve }));
    },
  };
}

export function connectTo(port: number, host = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ port, host, noDelay: true }, () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Everything the socket receives until it closes (the peer ended or reset it). */
export function readUntilClose(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => undefined);
  return new Promise((resolve) => socket.once('close', () => resolve(Buffer.concat(chunks))));
}

/** The next `bytes` bytes the socket receives. */
export function readBytes(socket: Socket, bytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let got = 0;
  return new Promise((resolve, reject) => {
    const onData = (c: Buffer): void => {
      chunks.push(c);
      got += c.length;
      if (got >= bytes) {
        socket.off('data', onData);
        socket.off('close', onClose);
        resolve(Buffer.concat(chunks));
      }
    };
    const onClose = (): void => reject(new Error(`closed after ${got} of ${bytes} bytes`));
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

export function writeAll(socket: Socket, data: Buffer | string): Promise<void> {
  return new Promise((resolve, reject) => socket.write(data, (err) => (err ? reject(err) : resolve())));
}

/** Deterministic bytes (mulberry32), so a failing run can be replayed. */
export function seededBytes(seed: number): (length: number, exclude?: number) => Buffer {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) & 0xff;
  };
  return (length, exclude) => {
    const out = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) {
      let b = next();
      while (b === exclude) b = next();
      out[i] = b;
    }
    return out;
  };
}

export const lines = {
  hello: Buffer.from('hello\n'),
  /** Not valid UTF-8: a lone continuation byte, an overlong form, 0xFF/0xFE, NUL and CR. */
  invalidUtf8: Buffer.from([0x80, 0xc0, 0xaf, 0xff, 0xfe, 0x00, 0x0d, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0x0a]),
};

/** Connection c's lines for the many-connections check: numbered, with seeded bytes that never contain a newline. */
export function connectionPayload(c: number, lineCount: number): Buffer {
  const bytes = seededBytes(c + 1);
  return Buffer.concat(
    Array.from({ length: lineCount }, (_, n) =>
      Buffer.concat([Buffer.from(`${c}:${n}:`), bytes(8 + ((c + n) % 40), 0x0a), Buffer.from('\n')]),
    ),
  );
}

/** Writes the payload in uneven pieces, so lines straddle writes, and resolves with as many bytes read back. */
export function echoInPieces(socket: Socket, payload: Buffer): Promise<Buffer> {
  const reply = readBytes(socket, payload.length);
  for (let at = 0; at < payload.length; at += 997) socket.write(payload.subarray(at, at + 997));
  return reply;
}

/** The seed 001 server's answer to a message: its Python repr of the bytes it got (`N°` is `N\xc2\xb0`). */
export const seedReply = (message: string): string =>
  `Your Message has been received: b'${message.replace('°', '\\xc2\\xb0')}'`;

export interface SeedServer {
  port: number;
  /** Connections it has served so far. */
  connections(): number;
  stop(): Promise<void>;
}

/**
 * Starts test/echo/scripts/seed-echo-server.mjs as its own process: like seed 001's Python server it serves one
 * connection at a time, answers one message with `Your Message has been received: b'...'` and closes.
 */
export function startSeedServer(): Promise<SeedServer> {
  const script = resolve(
    import.meta.dirname ?? new URL('.', import.meta.url).pathname,
    'scripts/seed-echo-server.mjs',
  );
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  let output = '';
  return new Promise((resolvePort, reject) => {
    child.once('error', reject);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      const waiting = !output.includes('\n');
      output += chunk;
      if (waiting && output.includes('\n')) {
        const port = Number(output.split('\n')[0]);
        resolvePort({
          port,
          connections: () => output.split('\n').filter((l) => l.startsWith('connection ')).length,
          stop: () => {
            child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
  });
}
