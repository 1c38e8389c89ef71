// Writes made during one turn of the event loop leave in one syscall: cork on the first, uncork at setImmediate.
import type { Socket } from 'node:net';

const corked = new WeakSet<Socket>();

export function corkUntilNextTurn(socket: Socket): void {
  if (corked.has(socket)) return;
  corked.add(socket);
  socket.cork();
  setImmediate(() => {
    corked.delete(socket);
    socket.uncork();
  });
}
