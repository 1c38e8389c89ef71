// One logger for the process: pino JSON lines carrying the role and the current request id. Secrets are redacted.
import type { LoggerService } from '@nestjs/common';
import { pino, type Logger } from 'pino';
import { currentRequestId } from './request-context.js';

export type AppLogger = Logger;

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

export function configureRootLogger(opts: {
  role: string;
  level: string;
  destination?: NodeJS.WritableStream;
}): Logger {
  root = pino(
    {
      level: opts.level,
      base: { role: opts.role, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT, censor: '[redacted]' },
      mixin() {
        const requestId = currentRequestId();
        return requestId ? { requestId } : {};
      },
    },
    opts.destination ?? pino.destination({ dest: 1, sync: true }),
  );
  return root;
}

/**
 * A child logger named after a component; resolves the root lazily so it picks up the boot configuration.
 * `level` gives the component a level of its own (a module's own log-level setting); otherwise it follows the root.
 */
export function createLogger(component: string, level?: string): Logger {
  const key = level ? `${component}\u0000${level}` : component;
  return new Proxy({} as Logger, {
    get(_t, prop) {
      const child = childCache.get(key) ?? cacheChild(key, component, level);
      const value = (child as unknown as Record<string | symbol, unknown>)[prop];
      return typeof value === 'function' ? value.bind(child) : value;
    },
  });
}

const childCache = new Map<string, Logger>();
let cachedRoot: Logger | undefined;
function cacheChild(key: string, component: string, level: string | undefined): Logger {
  if (cachedRoot !== root) {
    childCache.clear();
    cachedRoot = root;
  }
  const child = root.child({ component }, level ? { level } : undefined);
  childCache.set(key, child);
  return child;
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
