import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  assumeGcExtension,
  collectAllAvailableGarbage,
  lastResortIgnored,
  youngGenerationBytes,
} from './v8-gc.js';
import { growYoungGeneration } from '../../../test/harness/young-generation.js';

const MB = 1_048_576;

describe('V8 gc extension (internals/v8-gc.ts)', () => {
  it('is taken without exposing gc() to the process', () => {
    expect(() => assumeGcExtension()).not.toThrow();
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
    expect(runInNewContext('typeof gc')).toBe('undefined');
  });

  it('the last-resort collection shrinks a grown young generation, which a regular one keeps (what a trim relies on)', () => {
    expect(growYoungGeneration(16 * MB)).toBeGreaterThanOrEqual(16 * MB);
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as (o: object) => void;
    setFlagsFromString('--no-expose-gc');
    gc({ type: 'major', flavor: 'regular' });
    expect(youngGenerationBytes()).toBeGreaterThanOrEqual(16 * MB);

    const { youngBefore, youngAfter } = collectAllAvailableGarbage();
    expect(youngBefore).toBeGreaterThanOrEqual(16 * MB);
    expect(youngAfter).toBeLessThanOrEqual(4 * MB);
  });

  it('names Node.js, its version and V8 when the assumption breaks', () => {
    const message = lastResortIgnored().message;
    expect(message).toContain(`node@${process.versions.node} (V8 ${process.versions.v8})`);
    expect(message).toContain("gc({ flavor: 'last-resort' }) shrinks the young generation");
  });
});
