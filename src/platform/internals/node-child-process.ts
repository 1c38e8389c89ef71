// Node documents a child's stdio pipes only as streams; they are net.Sockets, whose unref() lets this process exit
// while the child still runs (the embedded PostgreSQL server's watchdog relies on seeing EOF when it does).
import type { ChildProcess } from 'node:child_process';
import { LibraryAssumptionError } from './library-assumption.js';

/** Unreferences the child and its piped stdio; throws a LibraryAssumptionError naming Node.js when a pipe cannot. */
export function unrefWithPipes(child: ChildProcess): void {
  child.unref();
  for (const pipe of [child.stdin, child.stdout, child.stderr]) {
    if (!pipe) continue;
    const unref = (pipe as unknown as { unref?: unknown }).unref;
    if (typeof unref !== 'function')
      throw new LibraryAssumptionError('node', process.versions.node, "a child's stdio pipe has unref()");
    unref.call(pipe);
  }
}
