// Settings are declared as data (env names, config-file key, default, parser, policies) and resolved once at boot:
// environment > config/ file > default. Every problem, policies included, is collected so one message names them
// all before the process starts anything.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

export interface Setting<T> {
  /** Environment variable names; the first is canonical, the rest are accepted aliases. */
  env: string | readonly string[];
  /** Where the value may come from in config/: a YAML file name and a dotted key inside it. */
  file?: { name: string; key: string };
  default?: T;
  parse: (raw: unknown) => T;
  /** Secrets are never echoed back in error messages or logs. */
  secret?: boolean;
  /** A setting that has no default and may stay unset resolves to undefined. */
  optional?: boolean;
}

export type SettingsSchema = Record<string, Setting<unknown>>;
export type SettingsOf<S extends SettingsSchema> = {
  [K in keyof S]: S[K] extends Setting<infer T> ? T : never;
};

/** What a policy may depend on besides the schema's own values. */
export interface Deployment {
  /** NODE_ENV=production. */
  production: boolean;
}

/** A rule over a schema's resolved values (across fields, or tied to the deployment); returns its problems. */
export type SettingsPolicy<S extends SettingsSchema> = (
  values: SettingsOf<S>,
  deployment: Deployment,
) => string | readonly string[] | undefined;

const policiesOf = new WeakMap<SettingsSchema, SettingsPolicy<never>[]>();

export function defineSettings<S extends SettingsSchema>(
  schema: S,
  options: { policies?: SettingsPolicy<S>[] } = {},
): S {
  if (options.policies?.length) policiesOf.set(schema, options.policies as SettingsPolicy<never>[]);
  return schema;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export interface SettingsSource {
  env: Record<string, string | undefined>;
  configDir: string;
  /** Policies run only when this is known (the platform settings that say it resolved). */
  deployment?: Deployment;
}

const fileCache = new Map<string, unknown>();

function readConfigFile(configDir: string, name: string): unknown {
  const path = join(configDir, name);
  if (!fileCache.has(path)) {
    fileCache.set(path, existsSync(path) ? (parseYaml(readFileSync(path, 'utf8')) ?? {}) : {});
  }
  return fileCache.get(path);
}

/** Forget cached config files, so a changed file is read again (tests, reload). */
export function clearConfigFileCache(): void {
  fileCache.clear();
}

function pick(obj: unknown, dotted: string): unknown {
  let cur: unknown = obj;
  for (const part of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Resolves several schemas in one pass, so a single error can name every bad variable. */
export function resolveSettings<S extends SettingsSchema>(schema: S, source: SettingsSource): SettingsOf<S>;
export function resolveSettings(schema: SettingsSchema, source: SettingsSource): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, setting] of Object.entries(schema)) {
    const names = typeof setting.env === 'string' ? [setting.env] : setting.env;
    const envName = names.find((n) => source.env[n] !== undefined && source.env[n] !== '');
    let raw: unknown;
    let origin: string;
    if (envName) {
      raw = source.env[envName];
      origin = envName;
    } else if (
      setting.file &&
      pick(readConfigFile(source.configDir, setting.file.name), setting.file.key) !== undefined
    ) {
      raw = pick(readConfigFile(source.configDir, setting.file.name), setting.file.key);
      origin = `${names[0]} (config/${setting.file.name}: ${setting.file.key})`;
    } else if (setting.default !== undefined) {
      out[key] = setting.default;
      continue;
    } else if (setting.optional) {
      out[key] = undefined;
      continue;
    } else {
      problems.push(`${names[0]} is required`);
      continue;
    }
    try {
      out[key] = setting.parse(raw);
    } catch (err) {
      const shown = setting.secret ? '' : ` (got ${JSON.stringify(raw)})`;
      problems.push(`${origin}: ${(err as Error).message}${shown}`);
    }
  }
  if (problems.length === 0 && source.deployment) {
    for (const policy of policiesOf.get(schema) ?? []) {
      const problem = (policy as SettingsPolicy<SettingsSchema>)(out as never, source.deployment);
      if (typeof problem === 'string') problems.push(problem);
      else if (problem) problems.push(...problem);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}

export { parseYaml };
