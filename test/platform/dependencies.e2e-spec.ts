// package.json says what the code uses: every package the code imports is one of its own dependencies (no phantom
// imports through another package's dependencies), and every runtime dependency is imported by the code or is a
// peer that one of them asks for (@fastify/static, which @nestjs/swagger's /docs serves its UI with).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from '../harness/topology.js';

interface Manifest {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const manifest = (dir: string) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
const own = manifest(ROOT);
const runtime = new Set([
  ...Object.keys(own.dependencies ?? {}),
  ...Object.keys(own.optionalDependencies ?? {}),
]);
const dev = new Set(Object.keys(own.devDependencies ?? {}));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The package of each bare module specifier a file imports (static, dynamic, `import type` included). */
function importedPackages(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:from\s+|import\s*\(\s*|^import\s+)['"]([^'"]+)['"]/gm)].map(
    (m) => m[1],
  );
  return specifiers
    .filter((s) => !s.startsWith('.') && !s.startsWith('node:'))
    .map((s) =>
      s
        .split('/')
        .slice(0, s.startsWith('@') ? 2 : 1)
        .join('/'),
    );
}

const files = sources(join(ROOT, 'src'));
const isSpec = (f: string) => f.endsWith('.spec.ts');
const imports = new Map<string, string[]>();
for (const file of files) {
  for (const pkg of importedPackages(file))
    imports.set(pkg, [...(imports.get(pkg) ?? []), relative(ROOT, file)]);
}

describe('package.json dependencies', () => {
  it('every package the code imports is a dependency of its own (specs may use devDependencies)', () => {
    const phantom = [...imports].flatMap(([pkg, by]) =>
      by.filter((f) => !(runtime.has(pkg) || (isSpec(f) && dev.has(pkg)))).map((f) => `${pkg} (${f})`),
    );
    expect(phantom).toEqual([]);
  });

  it('every runtime dependency is imported by the code, or is a peer a dependency asks for', () => {
    const used = new Set([...imports].filter(([, by]) => by.some((f) => !isSpec(f))).map(([pkg]) => pkg));
    const peers = new Map<string, string[]>();
    for (const dep of used) {
      if (!runtime.has(dep)) continue;
      for (const peer of Object.keys(manifest(join(ROOT, 'node_modules', dep)).peerDependencies ?? {}))
        peers.set(peer, [...(peers.get(peer) ?? []), dep]);
    }
    // Optional ones are platform packages (only this platform's is imported) or the registry Node.
    const unused = Object.keys(own.dependencies ?? {}).filter((dep) => !used.has(dep) && !peers.has(dep));
    expect(unused).toEqual([]);
    expect(peers.get('@fastify/static')).toContain('@nestjs/swagger');
  });
});
