// docker-compose.yml as compose itself reads it: YAML anchors and merge keys resolved, `${VAR}`,
// `${VAR:-default}` and `${VAR:?message}` substituted from the environment and the project's `.env` file.
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';

export type DependsOnCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

export interface ComposeService {
  image?: string;
  environment?: Record<string, string>;
  healthcheck?: { test: string[] | string; interval?: string; timeout?: string; retries?: number };
  depends_on?: Record<string, { condition: DependsOnCondition }> | string[];
  restart?: string;
  stop_grace_period?: string;
  volumes?: string[];
  ports?: string[];
  networks?: string[] | Record<string, { ipv4_address?: string } | null>;
  command?: string[];
  group_add?: string[];
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  networks?: Record<string, { name?: string }>;
  volumes?: Record<string, unknown>;
}

export class ComposeError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ComposeError';
  }
}

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$\$/g;

/**
 * Compose-style substitution against `env`. Every `${VAR:?message}` that is not satisfied is collected, so one
 * ComposeError names all of them (compose stops at the first).
 */
export function interpolate(value: unknown, env: Record<string, string | undefined>): unknown {
  const problems: string[] = [];
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      return v.replace(VARIABLE, (match, name: string | undefined, op?: string, arg?: string) => {
        if (match === '$$') return '$';
        const set = env[name!];
        const empty = set === undefined || (op?.startsWith(':') && set === '');
        if (op?.endsWith('-')) return empty ? (arg ?? '') : set!;
        if (op?.endsWith('?') && empty) {
          problems.push(`${name}: ${arg || 'required variable is not set'}`);
          return '';
        }
        return set ?? '';
      });
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  const result = walk(value);
  if (problems.length > 0) throw new ComposeError([...new Set(problems)]);
  return result;
}

/** `KEY=value` lines as compose reads `.env`: comments and blank lines skipped, one level of quotes removed. */
export function parseDotEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line
      .slice(0, eq)
      .trim()
      .replace(/^export\s+/, '');
    let value = line.slice(eq + 1).trim();
    const quoted = value.match(/^(['"])(.*)\1$/);
    if (quoted) value = quoted[2];
    else value = value.replace(/\s+#.*$/, '');
    out[key] = value;
  }
  return out;
}

/** The variables compose substitutes from: the `.env` file (if any), overridden by the shell's environment. */
export function interpolationEnv(
  shellEnv: Record<string, string | undefined>,
  dotEnvPath?: string,
): Record<string, string | undefined> {
  const fromFile = dotEnvPath && existsSync(dotEnvPath) ? parseDotEnv(readFileSync(dotEnvPath, 'utf8')) : {};
  return { ...fromFile, ...shellEnv };
}

/** Parses and interpolates a compose file; environment values are strings, as compose passes them. */
export function loadComposeFile(path: string, env: Record<string, string | undefined>): ComposeFile {
  const raw = parse(readFileSync(path, 'utf8'), { merge: true }) as ComposeFile;
  const file = interpolate(raw, env) as ComposeFile;
  for (const service of Object.values(file.services ?? {})) {
    if (service.environment) {
      service.environment = Object.fromEntries(
        Object.entries(service.environment).map(([k, v]) => [k, v === null ? '' : String(v)]),
      );
    }
  }
  return file;
}

/** depends_on in either of compose's two forms, as service -> condition. */
export function dependsOn(service: ComposeService): Record<string, DependsOnCondition> {
  const deps = service.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, 'service_started' as const]));
  return Object.fromEntries(
    Object.entries(deps).map(([name, d]) => [name, d.condition ?? 'service_started']),
  );
}

/** `15s`, `1m30s`, `500ms` -> milliseconds (compose's duration syntax). */
export function durationMs(text: string | undefined, fallback = 0): number {
  if (!text) return fallback;
  let total = 0;
  for (const [, n, unit] of String(text).matchAll(/(\d+(?:\.\d+)?)(ms|us|s|m|h)/g)) {
    total += Number(n) * { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms'];
  }
  return total;
}

/** `host:container` or `ip:host:container` (optionally `/tcp`) -> the two ports. */
export function publishedPort(spec: string): { host: number; container: number } {
  const parts = spec.replace(/\/(tcp|udp)$/, '').split(':');
  const container = Number(parts.at(-1));
  const host = parts.length >= 2 ? Number(parts.at(-2)) : NaN;
  if (!Number.isInteger(container) || !Number.isInteger(host)) {
    throw new ComposeError([`unsupported ports entry "${spec}" (expected HOST:CONTAINER)`]);
  }
  return { host, container };
}
