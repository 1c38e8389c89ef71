// Copies the non-TypeScript files the compiled build needs at run time (the calculator's .proto) from src/ to
// dist/, keeping their paths. Run by `npm run build` after tsc.
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ASSETS = [{ from: 'src/modules/calculator/proto', to: 'dist/modules/calculator/proto', ext: '.proto' }];

for (const { from, to, ext } of ASSETS) {
  const source = join(root, from);
  const target = join(root, to);
  const files = readdirSync(source).filter((f) => f.endsWith(ext));
  if (files.length === 0) throw new Error(`no ${ext} files in ${from}`);
  mkdirSync(target, { recursive: true });
  for (const f of files) {
    cpSync(join(source, f), join(target, f));
    console.log(`copied ${relative(root, join(source, f))} -> ${relative(root, join(target, f))}`);
  }
}
