// Temporary folders for a test file, removed once the file's tests are done (an afterAll registered on the file
// the first time this module is loaded in it), so a suite cannot forget one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

afterAll(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh folder under the temporary directory, removed after the test file. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `polyrole-${prefix}-`));
  made.push(dir);
  return dir;
}
