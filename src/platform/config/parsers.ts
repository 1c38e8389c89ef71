// Parsers for setting values. Each throws an Error whose message says what was expected.
import { isIP } from 'node:net';

export function int(opts: { min?: number; max?: number } = {}): (raw: unknown) => number {
  return (raw) => {
    const text = String(raw).trim();
    if (!/^-?\d+$/.test(text)) throw new Error('must be an integer');
    const n = Number(text);
    if (!Number.isSafeInteger(n)) throw new Error('is out of range');
    if (opts.min !== undefined && n < opts.min) throw new Error(`must be >= ${opts.min}`);
    if (opts.max !== undefined && n > opts.max) throw new Error(`must be <= ${opts.max}`);
    return n;
  };
}

export function port(): (raw: unknown) => number {
  return int({ min: 0, max: 65535 });
}

export function str(opts: { minLength?: number; pattern?: RegExp } = {}): (raw: unknown) => string {
  return (raw) => {
    if (typeof raw !== 'string' && typeof raw !== 'number') throw new Error('must be a string');
    const s = String(raw);
    if (opts.minLength !== undefined && s.length < opts.minLength)
      throw new Error(`must be at least ${opts.minLength} characters`);
    if (opts.pattern && !opts.pattern.test(s)) throw new Error(`must match ${opts.pattern}`);
    return s;
  };
}

/** A secret such as a bearer token: its length counts in UTF-8 bytes, and the value is never echoed. */
export function secretBytes(opts: { minBytes: number }): (raw: unknown) => string {
  return (raw) => {
    if (typeof raw !== 'string') throw new Error('must be a string');
    if (Buffer.byteLength(raw, 'utf8') < opts.minBytes)
      throw new Error(`must be at least ${opts.minBytes} bytes`);
    return raw;
  };
}

export function bool(): (raw: unknown) => boolean {
  return (raw) => {
    if (typeof raw === 'boolean') return raw;
    const s = String(raw).trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(s)) return true;
    if (['false', '0', 'no', 'off'].includes(s)) return false;
    throw new Error('must be true or false');
  };
}

export function oneOf<T extends string>(values: readonly T[]): (raw: unknown) => T {
  return (raw) => {
    const s = String(raw).trim().toLowerCase() as T;
    if (!values.includes(s)) throw new Error(`must be one of ${values.join(', ')}`);
    return s;
  };
}

export interface HostPort {
  host: string;
  port: number;
}

export function hostPort(): (raw: unknown) => HostPort {
  return (raw) => {
    const s = String(raw).trim();
    const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(s);
    if (!m) throw new Error('must be host:port');
    const p = Number(m[2]);
    if (p < 1 || p > 65535) throw new Error('port must be 1-65535');
    return { host: m[1].replace(/^\[|\]$/g, ''), port: p };
  };
}

/** A comma list of host:port addresses (one peer setting can name several replicas). */
export function hostPortList(): (raw: unknown) => HostPort[] {
  const one = hostPort();
  return (raw) => {
    const parts = String(raw)
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    if (parts.length === 0) throw new Error('must list at least one host:port');
    return parts.map(one);
  };
}

export function url(protocols: readonly string[]): (raw: unknown) => string {
  return (raw) => {
    let u: URL;
    try {
      u = new URL(String(raw));
    } catch {
      throw new Error('must be a URL');
    }
    if (!protocols.includes(u.protocol.replace(/:$/, '')))
      throw new Error(`must use ${protocols.join(' or ')}`);
    return String(raw);
  };
}

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go duration syntax (`1m5s`, `250ms`, `1.5h`) to milliseconds. */
export function parseGoDuration(text: string): number {
  const s = text.trim();
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d+)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) throw new Error(`invalid duration "${text}" (use Go syntax such as 1m5s, 5s, 250ms)`);
    total += Number(m[1]) * DURATION_UNITS[m[2]];
    pos = re.lastIndex;
  }
  if (pos === 0) throw new Error(`invalid duration "${text}" (use Go syntax such as 1m5s, 5s, 250ms)`);
  return total;
}

export function duration(): (raw: unknown) => number {
  return (raw) => parseGoDuration(String(raw));
}

export function ipList(): (raw: unknown) => string[] {
  return (raw) => {
    const items = String(raw)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const item of items) {
      const [addr, bits] = item.split('/');
      if (!isIP(addr)) throw new Error(`"${item}" is not an IP address or CIDR block`);
      if (bits !== undefined && !/^\d{1,3}$/.test(bits))
        throw new Error(`"${item}" has an invalid prefix length`);
    }
    return items;
  };
}

export interface RateLimit {
  /** Attempts allowed per window; 0 turns the limit off. */
  max: number;
  windowMs: number;
}

/** `10/60s`, `10/1m`, `5 / 30s`, or `off`. */
export function parseRateLimit(raw: unknown): RateLimit {
  const text = String(raw).trim().toLowerCase();
  if (text === 'off' || text === '0') return { max: 0, windowMs: 0 };
  const m = /^(\d+)\s*\/\s*(\S+)$/.exec(text);
  if (!m) throw new Error('must be <count>/<window>, e.g. 10/60s or 10/1m, or off');
  const max = Number(m[1]);
  const windowMs = parseGoDuration(m[2]);
  if (!Number.isSafeInteger(max) || max < 1) throw new Error('count must be a positive integer');
  if (windowMs < 1000) throw new Error('window must be at least 1s');
  return { max, windowMs };
}
