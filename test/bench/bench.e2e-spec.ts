// `npm run bench`'s front door answers --help and a wrong suite before building anything, and its HTTP load
// generator (wrk) counts what a server answered.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanUpLoad, httpLoad } from '../../bench/lib.js';
import { ROOT } from '../harness/topology.js';

const SUITES = Object.keys(JSON.parse(readFileSync(join(ROOT, 'bench/suites.json'), 'utf8')) as object);

/** bench.mjs with no npm, tsc or wrk reachable: anything it tried to build or run would fail. */
function bench(args: string[]) {
  const empty = mkdtempSync(join(tmpdir(), 'polyrole-bench-spec-'));
  try {
    return spawnSync(process.execPath, [join(ROOT, 'bench/bench.mjs'), ...args], {
      cwd: ROOT,
      env: { PATH: empty },
      encoding: 'utf8',
      timeout: 20_000,
    });
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
}

const benchLeftovers = () => readdirSync(tmpdir()).filter((f) => f.startsWith('polyrole-bench-'));

describe('npm run bench', () => {
  it('--help lists every suite and option and exits 0 without building', () => {
    const res = bench(['--help']);
    expect(res.status).toBe(0);
    for (const suite of SUITES) expect(res.stdout).toMatch(new RegExp(`^  ${suite} `, 'm'));
    expect(res.stdout).toContain('--profile');
  });

  it('an unknown suite is an error naming the valid ones, and leaves nothing in the temp directory', () => {
    const before = benchLeftovers();
    const res = bench(['foundatoin']);
    expect(res.status).toBe(2);
    expect(res.stderr).toContain(`unknown suite "foundatoin" (suites: ${SUITES.join(', ')})`);
    expect(benchLeftovers()).toEqual(before);
  });
});

describe('httpLoad (wrk)', () => {
  let server: Server;
  let port: number;
  let served = 0;

  beforeAll(async () => {
    // Every third request is refused with 429: those are errors, not throughput.
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        served++;
        res.writeHead(served % 3 === 0 ? 429 : 200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    cleanUpLoad();
    await new Promise((r) => server.close(r));
  });

  it('counts only 2xx answers as throughput and the rest as errors, and cleans its scripts up', async () => {
    const before = benchLeftovers();
    const r = await httpLoad({
      port,
      method: 'POST',
      path: '/x',
      body: '{"a":1}',
      connections: 4,
      seconds: 1,
    });
    expect(r.rps).toBeGreaterThan(0);
    expect(r.errors).toBeGreaterThan(0);
    // wrk's request count includes a few answers still in flight when it stops, so the split is not exact.
    expect(r.errors / (r.rps + r.errors)).toBeCloseTo(1 / 3, 1);
    cleanUpLoad();
    expect(benchLeftovers()).toEqual(before);
  });
});
