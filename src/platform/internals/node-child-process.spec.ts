import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { LibraryAssumptionError } from './library-assumption.js';
import { unrefWithPipes } from './node-child-process.js';

describe(unrefWithPipes.name, () => {
  it("unreferences a real child's pipes", async () => {
    const child = spawn(process.execPath, ['-e', 'process.stdin.resume()'], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    try {
      expect(() => unrefWithPipes(child)).not.toThrow();
    } finally {
      child.kill();
      await once(child, 'exit');
    }
  });

  it('fails loudly, naming Node.js and its version, when a pipe has no unref()', () => {
    const child = { unref: () => undefined, stdin: new PassThrough(), stdout: null, stderr: null };
    expect(() => unrefWithPipes(child as never)).toThrow(LibraryAssumptionError);
    expect(() => unrefWithPipes(child as never)).toThrow(`node@${process.versions.node} no longer works`);
  });
});
