// Bundles the operations console's page (src/roles/console/ui) into <out>/roles/console/ui with esbuild: one
// script, one stylesheet and the icon, served by every role itself (no CDN). Run by `npm run build` after tsc (out:
// dist) and by `npm run start:dev` (out: dist-dev, where its watch mode compiles, leaving the build in dist alone).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src/roles/console/ui');
const out = process.argv[2] ?? 'dist';
const target = join(root, out, 'roles/console/ui');

mkdirSync(target, { recursive: true });
await build({
  entryPoints: [join(source, 'console.js')],
  outdir: target,
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome120', 'firefox120', 'safari16'],
  logLevel: 'warning',
});
for (const file of ['index.html', 'favicon.svg']) copyFileSync(join(source, file), join(target, file));
console.log(`built console -> ${out}/roles/console/ui`);
