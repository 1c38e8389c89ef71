// The one way a use of a library's non-public API (docs/internals.md) reports that the installed library no longer
// works as that use assumes: an error naming the library, its installed version and the broken assumption, thrown at
// boot, instead of a renamed field read as undefined and a feature silently lost.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const versions = new Map<string, string>();

/** The version of the installed package, read from its package.json (found from its entry point, exports or not). */
export function installedVersion(pkg: string): string {
  let version = versions.get(pkg);
  if (version !== undefined) return version;
  version = 'unknown';
  try {
    let dir = dirname(require.resolve(pkg));
    for (;;) {
      try {
        const json = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
          name?: string;
          version?: string;
        };
        if (json.name === pkg) {
          version = json.version ?? version;
          break;
        }
      } catch {
        // No package.json at this level: keep walking up.
      }
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  } catch {
    // Not resolvable from here: the error still names the library.
  }
  versions.set(pkg, version);
  return version;
}

export class LibraryAssumptionError extends Error {
  constructor(
    readonly library: string,
    readonly version: string,
    readonly assumption: string,
  ) {
    super(
      `${library}@${version} no longer works as this platform assumes: ${assumption} ` +
        '(see docs/internals.md for what relies on it)',
    );
    this.name = 'LibraryAssumptionError';
  }
}

/** Throws a LibraryAssumptionError for `library` unless `holds`. */
export function assumeOf(library: string, holds: unknown, assumption: string): asserts holds {
  if (!holds) throw new LibraryAssumptionError(library, installedVersion(library), assumption);
}
