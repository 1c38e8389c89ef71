// Reads ROLE (and the rest of the environment) and boots that role.
import { enableCompileCache, flushCompileCache } from 'node:module';
import { fileURLToPath } from 'node:url';

// Boot is mostly loading modules, so V8's compiled code for them is kept on disk and reused by the next process
// (docs/runtime.md). The cache sits beside the dependencies rather than in the OS temp directory, and the image
// fills it at build time; where it cannot be written (a read-only root filesystem) what is there is still read.
enableCompileCache(fileURLToPath(new URL('../node_modules/.cache/node-compile-cache', import.meta.url)));

// Imported only now, so that every module it loads goes through the cache.
const { bootstrap } = await import('./roles/bootstrap.js');

// eslint-disable-next-line no-restricted-syntax -- the one place the raw environment enters the program
void bootstrap(process.env).then(() => flushCompileCache());
