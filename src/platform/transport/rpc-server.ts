// The Nest TCP listener every role that serves patterns opens: Nest's own ServerTCP and wire format, with two
// hot-path costs removed — replies coalesced per tick (batching-json-socket.ts) and the pattern lookup below.
import { ServerTCP, type TcpOptions } from '@nestjs/microservices';
import { batchingJsonSocket } from './batching-json-socket.js';

export class RpcServer extends ServerTCP {
  constructor(options: NonNullable<TcpOptions['options']> & { maxMessageBytes: number }) {
    const { maxMessageBytes, ...rest } = options;
    super({ ...rest, socketClass: batchingJsonSocket(maxMessageBytes) });
  }

  /**
   * Nest first tries JSON.parse on every incoming pattern; for a plain string pattern that throws, and building the
   * thrown error costs more than the call itself. Only object patterns (JSON text) need the parse.
   */
  protected override getRouteFromPattern(pattern: string): string {
    const first = pattern.charCodeAt(0);
    if (first !== 0x7b /* { */ && first !== 0x5b /* [ */ && first !== 0x22 /* " */)
      return this.normalizePattern(pattern);
    return super.getRouteFromPattern(pattern);
  }
}
