// Run once at image build, as the user roles run as: loads every module a role loads at boot (the bootstrap and
// every module part) with V8's compile cache on, in the directory src/main.ts uses, and writes the cache. Nothing
// is started. The cache is keyed by Node version and uid, so it must run on the image's Node, as that user.
import { enableCompileCache, flushCompileCache, getCompileCacheDir } from 'node:module';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const enabled = enableCompileCache(join(root, 'node_modules/.cache/node-compile-cache'));
if (!getCompileCacheDir()) throw new Error(`compile cache not enabled: ${enabled.message}`);

await import(pathToFileURL(join(root, 'dist/roles/bootstrap.js')).href);
const { PARTS } = await import(pathToFileURL(join(root, 'dist/roles/parts.js')).href);
for (const load of Object.values(PARTS)) await load();
flushCompileCache();
const dir = getCompileCacheDir();
console.log(`compile cache: ${readdirSync(dir).length} modules in ${dir}`);
