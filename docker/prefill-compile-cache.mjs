// Run once at image build, as the user roles run as: loads every chunk of the bundled server (dist/main.js's
// imports: the bootstrap and every module part; scripts/bundle-server.mjs lists them) with V8's compile cache on, in
// the directory src/main.ts uses, and writes the cache. Nothing is started (main.js itself, which boots, is not
// loaded). The cache is keyed by Node version and uid, so it must run on the image's Node, as that user.
import { enableCompileCache, flushCompileCache, getCompileCacheDir } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const enabled = enableCompileCache(join(root, 'node_modules/.cache/node-compile-cache'));
if (!getCompileCacheDir()) throw new Error(`compile cache not enabled: ${enabled.message}`);

const chunks = JSON.parse(readFileSync(join(root, 'dist/bundle-outputs.json'), 'utf8'));
for (const chunk of chunks.filter((file) => file.endsWith('.js'))) {
  await import(pathToFileURL(join(root, 'dist', chunk)).href);
}
flushCompileCache();
const dir = getCompileCacheDir();
console.log(`compile cache: ${readdirSync(dir).length} modules in ${dir}`);
