import { JsonSocket, ServerTCP } from '@nestjs/microservices';
import type { Socket } from 'node:net';
import { LibraryAssumptionError } from './library-assumption.js';
import { checkNestTcpTransport } from './nest-microservices.js';

describe(checkNestTcpTransport.name, () => {
  it("passes with the installed Nest's ServerTCP and JsonSocket", () => {
    expect(() => checkNestTcpTransport()).not.toThrow();
  });

  it('fails loudly, naming @nestjs/microservices, when ServerTCP no longer has handleMessage()', () => {
    class Renamed {
      getRouteFromPattern() {}
      normalizePattern() {}
      handleError() {}
    }
    expect(() => checkNestTcpTransport(Renamed)).toThrow(LibraryAssumptionError);
    expect(() => checkNestTcpTransport(Renamed)).toThrow(/^@nestjs\/microservices@\S+ .*handleMessage\(\)/);
  });

  it('fails loudly when getRouteFromPattern() no longer normalizes a plain string pattern', () => {
    class Prefixed extends ServerTCP {
      override getRouteFromPattern(pattern: string): string {
        return `v2:${super.getRouteFromPattern(pattern)}`;
      }
    }
    expect(() => checkNestTcpTransport(Prefixed as never)).toThrow(
      /getRouteFromPattern\(\) is normalizePattern\(\)/,
    );
  });

  it('fails loudly when JsonSocket no longer takes its maxBufferSize option', () => {
    class Unbounded extends JsonSocket {
      constructor(socket: Socket) {
        super(socket);
      }
    }
    expect(() => checkNestTcpTransport(ServerTCP as never, Unbounded)).toThrow(/maxBufferSize/);
  });
});
