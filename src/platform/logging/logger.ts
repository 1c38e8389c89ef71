// One logger for the process: pino JSON lines carrying the role, the current request id and the current span's
// trace_id/span_id. Secrets are redacted.
// Lines go to stdout through an asynchronous destination (writes made while one is in flight leave together), so a
// request never waits on the terminal or the pipe; what is buffered is flushed on shutdown, on a fatal error and at
// exit. On a terminal in development the lines are rendered for people (pino-pretty) instead.
import type { LoggerService } from '@nestjs/common';
import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import { pino, type DestinationStream, type Logger } from 'pino';
import { requestOf } from './request-context.js';

export type AppLogger = Logger;
export type LogFormat = 'auto' | 'json' | 'pretty';

const REDACT = [
  'password',
  '*.password',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'DATABASE_URL',
  'JWT_SECRET',
];

let root: Logger = pino({ level: 'silent' });
let generation = 0;
let accessLog = false;

/** `auto` is human-readable only in development on a terminal; JSON everywhere else (containers, CI, pipes). */
export function prettyLogs(format: LogFormat, nodeEnv: string, isTty: boolean): boolean {
  if (format !== 'auto') return format === 'pretty';
  return nodeEnv === 'development' && isTty;
}

/** The human-readable destination; loaded only when wanted, so JSON-logging processes never load pino-pretty. */
export async function prettyDestination(): Promise<NodeJS.WritableStream> {
  const { PinoPretty } = await import('pino-pretty');
  return PinoPretty({
    destination: 1,
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    messageFormat: '{role} {component}: {msg}',
    ignore: 'pid,hostname,role,component',
  });
}

export function configureRootLogger(opts: {
  role: string;
  level: string;
  /** Where lines go: stdout through an asynchronous destination unless given (e.g. prettyDestination()). */
  destination?: NodeJS.WritableStream;
  /** One line per HTTP request and per RPC call handled (LOG_ACCESS). */
  accessLog?: boolean;
}): Logger {
  accessLog = opts.accessLog ?? false;
  const destination = opts.destination ?? logDestination(1);
  root = pino(
    {
      level: opts.level,
      base: { role: opts.role, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT, censor: '[redacted]' },
      // The request id and the current span, both read from the one request context.
      mixin() {
        const ctx = context.active();
        const requestId = requestOf(ctx)?.requestId;
        const span = trace.getSpanContext(ctx);
        if (!span || !isSpanContextValid(span)) return requestId ? { requestId } : {};
        return requestId
          ? { requestId, trace_id: span.traceId, span_id: span.spanId }
          : { trace_id: span.traceId, span_id: span.spanId };
      },
    },
    destination as DestinationStream,
  );
  generation++;
  return root;
}

/** Whether access lines (one per request, one per RPC call) are wanted: they are off the hot path by default. */
export function accessLogEnabled(): boolean {
  return accessLog;
}

/**
 * The asynchronous destination for log lines: a line is written as soon as no write is in flight, and lines logged
 * meanwhile leave together. `minLength: 1` writes exactly as 0 would (a line is never one byte) but makes flush(cb)
 * wait for the write in flight and what queued behind it; with 0, sonic-boom's flush returns at once.
 */
export function logDestination(dest: number | string) {
  return pino.destination({ dest, sync: false, minLength: 1 });
}

/**
 * Writes out every line logged so far (pino's flush): waits, bounded, for the destination to drain. Called before the
 * process exits, on purpose or on a fatal error; what is still queued after the bound, pino's own exit handler writes
 * synchronously.
 */
export async function flushLogs(timeoutMs = 1000): Promise<void> {
  const logger = root;
  await new Promise<void>((done) => {
    const timer = setTimeout(done, timeoutMs);
    // The callback's error (fsync is refused on a pipe or a terminal) comes after the lines were written.
    logger.flush(() => {
      clearTimeout(timer);
      done();
    });
  });
}

/**
 * A child logger named after a component; resolves the root lazily so it picks up the boot configuration.
 * `level` gives the component a level of its own (a module's own log-level setting); otherwise it follows the root.
 * Bound methods are kept per root, so a log call costs a property lookup rather than a bind.
 */
export function createLogger(component: string, level?: string): Logger {
  let child: Logger | undefined;
  let forGeneration = -1;
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy({} as Logger, {
    get(_t, prop) {
      if (forGeneration !== generation || !child) {
        child = root.child({ component }, level ? { level } : undefined);
        forGeneration = generation;
        bound.clear();
      }
      const hit = bound.get(prop);
      if (hit !== undefined) return hit;
      const value = (child as unknown as Record<string | symbol, unknown>)[prop];
      if (typeof value !== 'function') return value;
      const fn = value.bind(child);
      bound.set(prop, fn);
      return fn;
    },
  });
}

/** Nest's own log lines go through the same pino logger. */
export class NestPinoLogger implements LoggerService {
  private readonly log_ = createLogger('nest');
  log(message: unknown, context?: string) {
    this.log_.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.log_.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.log_.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.log_.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.log_.trace({ context }, String(message));
  }
}
