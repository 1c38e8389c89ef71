// Grows V8's young generation in the test's own process, as a load grows a role's: what the heap trim and its V8
// adapter are tested against.
import { youngGenerationBytes } from '../../src/platform/internals/v8-gc.js';

/** Allocates short-lived objects until the young generation holds at least `bytes` (or gives up); returns its size. */
export function growYoungGeneration(bytes: number): number {
  let keep: unknown[] = [];
  for (let i = 0; i < 2e7 && youngGenerationBytes() < bytes; i++) {
    keep.push({ i, s: `x${i}` });
    if (keep.length > 20_000) keep = [];
  }
  return youngGenerationBytes();
}
