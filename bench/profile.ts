// Reads the .cpuprofile files a `--profile` run wrote and tells where each measured process spent its CPU: every
// sample is charged to the nearest frame on its stack that belongs to a known cost (logging, metrics, validation...).
// A frame in the bundled server (dist/main.js and its chunks) is first mapped back through the bundle's source map
// to the file its code came from (a package in node_modules, or the project's own module).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

interface CpuNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: CpuNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Checked from the sampled frame outwards; the first cost a frame matches takes the sample. */
const COSTS: Array<[string, (fn: string, url: string) => boolean]> = [
  ['logging', (_f, u) => /\/(pino|sonic-boom|pino-std-serializers)\/|\/platform\/logging\/logger/.test(u)],
  ['metrics', (_f, u) => /\/prom-client\/|\/platform\/metrics\//.test(u)],
  [
    'context propagation',
    (f, u) =>
      u === 'node:async_hooks' ||
      u.startsWith('node:internal/async_hooks') ||
      u.includes('async_local_storage') ||
      /\/platform\/logging\/request-context/.test(u) ||
      /^(promiseInitHook|promiseBeforeHook|promiseAfterHook|promiseResolveHook|emitInit)/.test(f),
  ],
  ['validation', (_f, u) => /\/(class-validator|class-transformer)\/|\/platform\/validation\//.test(u)],
  [
    'serialisation',
    (f, u) =>
      ((f === 'stringify' || f === 'parse') && u === '') ||
      /\/fast-json-stringify\/|\/secure-json-parse\/|fastify\/lib\/(content-type-parser|reply-serialize|schemas)|json-socket|transport\/tcp-connection/.test(
        u,
      ),
  ],
  ['database', (_f, u) => /\/(pg|pg-protocol|pg-pool|typeorm)\//.test(u)],
  [
    'routing',
    (_f, u) =>
      /\/find-my-way\/|@nestjs\/core\/(router|helpers|pipes|guards|interceptors|exceptions)|@nestjs\/microservices\/(server|context|ctx-host)|@nestjs\/platform-fastify\/|fastify\/lib\/(route|handle-request|hooks|wrap-thenable|reply|request|context)|\/platform\/http\/|\/platform\/transport\//.test(
        u,
      ),
  ],
  ['handler', (_f, u) => /\/modules\/|\/decimal\.js\/|\/baselines\//.test(u)],
  [
    'socket I/O',
    (f, u) => u === '' && /^(writev|writeBuffer|writeUtf8String|writeLatin1String|onStreamRead)$/.test(f),
  ],
  ['garbage collection', (f) => f === '(garbage collector)'],
];

/** Loading and compiling modules at boot: a sample with such a frame anywhere on its stack is startup. */
const STARTUP = (f: string, u: string) =>
  u.startsWith('node:internal/modules/') || /^(compileSourceTextModule|wrapSafe|evaluate)$/.test(f);

const IDLE = new Set(['(idle)', '(program)']);

export interface ProfileShares {
  file: string;
  /** Busy time (not idle), in ms. */
  busyMs: number;
  /** Share of busy time per cost; "other" is the rest (Node's HTTP and stream code, the event loop). */
  shares: Record<string, number>;
}

const sourceMaps = new Map<string, SourceMap | undefined>();

/** The URL of the file a bundled frame's code came from (the bundle's files are dist/*.js); else its own URL. */
function originalUrl({ url, lineNumber, columnNumber }: CpuNode['callFrame']): string {
  if (!url.startsWith('file://') || lineNumber < 0) return url;
  const file = fileURLToPath(url);
  if (basename(dirname(file)) !== 'dist') return url;
  if (!sourceMaps.has(file)) {
    const map = `${file}.map`;
    sourceMaps.set(file, existsSync(map) ? new SourceMap(JSON.parse(readFileSync(map, 'utf8'))) : undefined);
  }
  const entry = sourceMaps.get(file)?.findEntry(lineNumber, columnNumber) as
    { originalSource?: string } | undefined;
  return entry?.originalSource ? pathToFileURL(resolve(dirname(file), entry.originalSource)).href : url;
}

export function summarize(file: string): ProfileShares {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  for (const node of profile.nodes) node.callFrame.url = originalUrl(node.callFrame);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const startup = new Map<number, boolean>();
  const atStartup = (id: number): boolean => {
    const known = startup.get(id);
    if (known !== undefined) return known;
    const { functionName, url } = byId.get(id)!.callFrame;
    const up = parent.get(id);
    const v = STARTUP(functionName, url) || (up !== undefined && atStartup(up));
    startup.set(id, v);
    return v;
  };
  const costOf = new Map<number, string>();
  const classify = (id: number): string => {
    if (atStartup(id)) return 'startup';
    const known = costOf.get(id);
    if (known) return known;
    const path: number[] = [];
    let cost = 'other';
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const cached = costOf.get(at);
      if (cached) {
        cost = cached;
        break;
      }
      path.push(at);
      const { functionName, url } = byId.get(at)!.callFrame;
      const hit = COSTS.find(([, test]) => test(functionName, url));
      if (hit) {
        cost = hit[0];
        break;
      }
    }
    // The frames walked up to the match take its cost; a frame with no match up to the root is "other".
    for (const p of path) costOf.set(p, cost);
    return cost;
  };
  const totals: Record<string, number> = {};
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    if (IDLE.has(byId.get(id)!.callFrame.functionName)) return;
    busy += dt;
    const cost = classify(id);
    totals[cost] = (totals[cost] ?? 0) + dt;
  });
  const shares: Record<string, number> = {};
  for (const [k, v] of Object.entries(totals)) shares[k] = busy ? v / busy : 0;
  return { file, busyMs: busy / 1000, shares };
}

export function summarizeDir(dir: string): ProfileShares[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()
    .map((f) => summarize(join(dir, f)));
}

export function formatShares(list: ProfileShares[]): string {
  const order = [...COSTS.map(([k]) => k), 'other', 'startup'];
  let out = `\n| profile | busy ms | ${order.join(' | ')} |\n|---|---|${order.map(() => '---|').join('')}\n`;
  for (const p of list) {
    const cells = order.map((k) => `${((p.shares[k] ?? 0) * 100).toFixed(1)}%`);
    out += `| ${p.file.replace(/^.*\//, '')} | ${p.busyMs.toFixed(0)} | ${cells.join(' | ')} |\n`;
  }
  return out;
}
