// `npm run build` bundles the server (scripts/bundle-server.mjs): a role loads the framework from dist/ rather than
// some 2,600 files of node_modules, which was most of its boot (docs/runtime.md, "Boot"). What must stay outside
// the bundle stays outside, and the paths the code finds beside itself still resolve.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { tempDir } from '../harness/temp-dir.js';
import { MAIN, ROOT, Topology } from '../harness/topology.js';

/** An --import module for the role: on exit it writes every file Node loaded (ES modules and CommonJS). */
function loadRecorder(out: string): string {
  const hook = join(tempDir('bundle'), 'record-loads.mjs');
  writeFileSync(
    hook,
    [
      "import { registerHooks } from 'node:module';",
      "import { writeFileSync } from 'node:fs';",
      'const loaded = new Set();',
      'registerHooks({ load(url, context, next) { loaded.add(url); return next(url, context); } });',
      `process.on('exit', () => writeFileSync(${JSON.stringify(out)}, [...loaded].join('\\n')));`,
    ].join('\n'),
  );
  return hook;
}

describe('the bundled server', () => {
  it('dist/main.js is the bundle: it imports only Node built-ins and its own chunks, all of them present', () => {
    const main = readFileSync(MAIN, 'utf8');
    const outputs = JSON.parse(readFileSync(join(ROOT, 'dist/bundle-outputs.json'), 'utf8')) as string[];
    const specifiers = [...main.matchAll(/(?:\bfrom|\bimport\s*\(?)\s*["']([^"']+)["']/g)].map((m) => m[1]);
    const chunks = specifiers.filter((s) => s.startsWith('./'));
    // tsc's main.js imports ./roles/bootstrap.js; the bundle's imports its chunks.
    expect(chunks.length).toBeGreaterThan(0);
    for (const chunk of chunks) expect(outputs).toContain(chunk.slice(2));
    for (const chunk of outputs) expect(existsSync(join(ROOT, 'dist', chunk))).toBe(true);
    expect(specifiers.filter((s) => !s.startsWith('./') && !s.startsWith('node:'))).toEqual([]);
  });

  it('ROLE=exchange boots, serves and loads under 200 files from node_modules, none of the framework', async () => {
    const out = join(tempDir('bundle-loads'), 'loaded.txt');
    const topology = await Topology.start([
      { role: 'exchange', env: { NODE_OPTIONS: `--import ${loadRecorder(out)}` } },
    ]);
    try {
      const res = await request(topology.get('exchange').url)
        .post('/exchange')
        .send({ from: 'USD', to: 'EUR', amount: 10 });
      expect(res.status).toBe(200);
      // The OpenAPI page's assets come from swagger-ui-dist, found beside the bundle.
      expect((await request(topology.get('exchange').url).get('/docs')).status).toBe(200);
    } finally {
      await topology.stop();
    }
    const loaded = readFileSync(out, 'utf8').split('\n').filter(Boolean);
    const fromNodeModules = loaded.filter((url) => url.includes('/node_modules/'));
    // Unbundled, the same boot loaded about 2,500 (es-toolkit alone 428, rxjs 226, @nestjs/* 700).
    expect(fromNodeModules.length).toBeLessThan(200);
    const framework = fromNodeModules.filter((url) =>
      /\/node_modules\/(@nestjs\/|fastify\/|rxjs\/|es-toolkit\/|class-validator\/)/.test(url),
    );
    expect(framework).toEqual([]);
    expect(loaded.some((url) => url.endsWith('/dist/main.js'))).toBe(true);
  });
});
