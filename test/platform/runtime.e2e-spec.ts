// The suite, every process it starts and every npm script run on Node 24 or newer: on a machine whose own Node is
// older, npm installs Node 24 from the registry (scripts/node-runtime) and node_modules/.bin/node runs them.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../harness/topology.js';

interface Manifest {
  engines: { node: string };
  optionalDependencies?: Record<string, string>;
}

const manifest = (path: string) => JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as Manifest;
const root = manifest('package.json');
const runtime = manifest('scripts/node-runtime/package.json');
const major = (version: string) => Number(/(\d+)/.exec(version)?.[1]);
/** The lowest major that package.json's engines accepts (">=24" -> 24). */
const minimum = major(/^>=\s*(\d+)/.exec(root.engines.node)?.[1] ?? 'NaN');

describe('the Node runtime', () => {
  it('package.json asks for Node 24 or newer', () => {
    expect(minimum).toBeGreaterThanOrEqual(24);
  });

  it('the suite runs on a Node that package.json accepts', () => {
    expect(major(process.versions.node)).toBeGreaterThanOrEqual(minimum);
  });

  it('a process started the way the suite starts roles (process.execPath) runs on it too', () => {
    const child = spawnSync(process.execPath, ['-p', 'process.versions.node'], { encoding: 'utf8' });
    expect(major(child.stdout)).toBeGreaterThanOrEqual(minimum);
  });

  it('npm scripts resolve `node` to a Node that package.json accepts (node_modules/.bin first)', () => {
    const out = execFileSync('npm', ['exec', '--call', 'node -p process.versions.node'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(major(out)).toBeGreaterThanOrEqual(minimum);
  });

  it('the registry Node is installed exactly where npm runs on an older Node, and is that minimum', () => {
    expect(root.optionalDependencies?.['polyrole-node-runtime']).toBe('file:scripts/node-runtime');
    expect(runtime.engines.node).toBe(`<${minimum}`);
    const builds = Object.entries(runtime.optionalDependencies ?? {});
    expect(builds.length).toBeGreaterThan(0);
    for (const [name, version] of builds) {
      expect(name).toMatch(/^node-linux-(x64|arm64)$/);
      expect(major(version)).toBe(minimum);
    }
  });
});
