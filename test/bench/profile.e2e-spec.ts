// `npm run bench -- --profile` charges each sample to a cost by the file its code came from: a frame of the bundled
// server (dist/*.js) is mapped back through the bundle's source map first, or every sample would land in "other".
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { summarize } from '../../bench/profile.js';
import { tempDir } from '../harness/temp-dir.js';

/** A one-function "bundle" in <dir>/dist whose source map says its code is `source`, and a profile sampling it. */
function profileOfBundledFrame(source: string): string {
  const dist = join(tempDir('profile'), 'dist');
  mkdirSync(dist);
  const chunk = join(dist, 'chunk-TEST.js');
  writeFileSync(chunk, 'export function write() {}\n//# sourceMappingURL=chunk-TEST.js.map\n');
  // One segment: generated line 0, column 0 -> source 0, line 0, column 0.
  writeFileSync(
    `${chunk}.map`,
    JSON.stringify({ version: 3, sources: [source], names: [], mappings: 'AAAA' }),
  );
  const frame = (id: number, functionName: string, url: string, children?: number[]) => ({
    id,
    callFrame: { functionName, url, lineNumber: url ? 0 : -1, columnNumber: url ? 0 : -1, scriptId: '0' },
    ...(children ? { children } : {}),
  });
  const file = join(dist, '..', 'role.cpuprofile');
  writeFileSync(
    file,
    JSON.stringify({
      nodes: [frame(1, '(root)', '', [2]), frame(2, 'write', pathToFileURL(chunk).href)],
      startTime: 0,
      endTime: 4000,
      samples: [2, 2, 2, 2],
      timeDeltas: [1000, 1000, 1000, 1000],
    }),
  );
  return file;
}

describe('bench --profile on the bundled server', () => {
  it('charges a bundled frame to the package its source map names', () => {
    const shares = summarize(profileOfBundledFrame('../node_modules/pino/lib/tools.js')).shares;
    expect(shares.logging).toBeCloseTo(1);
  });

  it("charges a bundled frame of the project's own code to its module", () => {
    const shares = summarize(profileOfBundledFrame('../src/modules/exchange/exchange.service.ts')).shares;
    expect(shares.handler).toBeCloseTo(1);
  });
});
