// docs/configuration.md lists every setting the code reads, and nothing the code no longer reads: the settings are
// collected from the code itself (every exported schema of every *.settings.ts, plus the few names bootstrap reads
// before settings exist), so a setting added without its row fails here.
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../harness/topology.js';

const SRC = join(ROOT, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') ? [path] : [];
  });
}

function isSetting(value: unknown): value is { env: string | readonly string[] } {
  if (!value || typeof value !== 'object') return false;
  const { env, parse } = value as { env?: unknown; parse?: unknown };
  return typeof parse === 'function' && (typeof env === 'string' || Array.isArray(env));
}

/** Canonical name -> aliases, from every schema exported by a *.settings.ts. */
async function settingsInCode(): Promise<Map<string, string[]>> {
  const names = new Map<string, string[]>();
  for (const file of sourceFiles(SRC).filter((f) => f.endsWith('.settings.ts'))) {
    const exported = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    for (const schema of Object.values(exported)) {
      if (!schema || typeof schema !== 'object') continue;
      for (const setting of Object.values(schema)) {
        if (!isSetting(setting)) continue;
        const [canonical, ...aliases] = typeof setting.env === 'string' ? [setting.env] : setting.env;
        names.set(canonical, aliases);
      }
    }
  }
  // Read straight from the environment by the bootstrap, before any schema is resolved.
  for (const file of sourceFiles(SRC)) {
    for (const [, name] of readFileSync(file, 'utf8').matchAll(/\benv\.([A-Z][A-Z0-9_]+)\b/g)) {
      if (!names.has(name)) names.set(name, []);
    }
  }
  return names;
}

/** The variables named in the first column of the page's tables (aliases in parentheses included). */
function settingsInDocs(): Set<string> {
  const page = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8');
  const names = new Set<string>();
  for (const line of page.split('\n')) {
    const first = /^\| ([^|]+) \|/.exec(line)?.[1];
    if (!first) continue;
    for (const [, name] of first.matchAll(/`([A-Z<][A-Za-z0-9_<>]+)`/g)) names.add(name);
  }
  return names;
}

describe('docs/configuration.md', () => {
  it('has a row for every setting the code reads, aliases included', async () => {
    const documented = settingsInDocs();
    const missing = [...(await settingsInCode())]
      .flatMap(([name, aliases]) => [name, ...aliases])
      .filter((name) => !documented.has(name));
    expect(missing).toEqual([]);
  });

  it('lists no setting the code does not read', async () => {
    const code = await settingsInCode();
    const known = new Set([...code].flatMap(([name, aliases]) => [name, ...aliases]));
    // The peer convention (bootstrap derives EXCHANGE_ADDR, AUTH_ADDR, ... from the role table).
    known.add('<ROLE>_ADDR');
    expect([...settingsInDocs()].filter((name) => !known.has(name))).toEqual([]);
  });

  it('finds the settings at all (the collection above is not vacuous)', async () => {
    const code = await settingsInCode();
    expect(code.size).toBeGreaterThan(80);
    expect([...code.keys()]).toEqual(
      expect.arrayContaining([
        'ROLE',
        'CONFIG_DIR',
        'NODE_ENV',
        'HTTP_BODY_LIMIT_BYTES',
        'RPC_MAX_MESSAGE_BYTES',
      ]),
    );
    expect(relative(ROOT, SRC)).toBe('src');
  });
});
