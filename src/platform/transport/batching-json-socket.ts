// The Nest TCP listener's socket with replies coalesced: every reply produced in one turn of the event loop goes
// out in one write (cork, then uncork at setImmediate) instead of one syscall each. Framing is Nest's own.
import { JsonSocket, type TcpSocket } from '@nestjs/microservices';
import type { Socket } from 'node:net';
import { corkUntilNextTurn } from './cork.js';

type SocketClass = new (socket: Socket) => TcpSocket;

/** A JsonSocket class bound to the transport's limits (Nest passes framing options only to its own class). */
export function batchingJsonSocket(maxBufferSize: number): SocketClass {
  return class BatchingJsonSocket extends JsonSocket {
    constructor(socket: Socket) {
      super(socket, { maxBufferSize });
    }

    protected override handleSend(message: unknown, callback?: (err?: unknown) => void): void {
      corkUntilNextTurn(this.netSocket);
      super.handleSend(message, callback);
    }
  };
}
