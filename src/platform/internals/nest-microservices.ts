// Nest's TCP transport, extended where it offers no option: the platform's listener (transport/rpc-server.ts)
// overrides ServerTCP's handleMessage() (the caller check, direct handler calls) and getRouteFromPattern() (no
// JSON.parse of plain string patterns), and its socket (transport/batching-json-socket.ts) overrides JsonSocket's
// protected handleSend() (replies corked per tick). An override of a method the base class renamed is never called,
// and its work (the caller check among it) would be skipped without a word: these are checked before a listener is
// made.
import { JsonSocket, ServerTCP } from '@nestjs/microservices';
import { Socket } from 'node:net';
import { assumeOf } from './library-assumption.js';

const LIBRARY = '@nestjs/microservices';

type Methods = Record<string, unknown>;

/**
 * Checks the members the platform overrides or calls: ServerTCP's handleMessage(socket, raw) (what its socket's
 * 'message' listener calls), getRouteFromPattern() (which parses JSON patterns, else normalizes the string),
 * normalizePattern() and handleError(); JsonSocket's handleSend(message, callback), its `netSocket`, and its
 * `maxBufferSize` option. Throws a LibraryAssumptionError naming @nestjs/microservices otherwise.
 */
export function checkNestTcpTransport(
  server: new (options: object) => object = ServerTCP,
  socket: new (socket: Socket, options?: { maxBufferSize?: number }) => object = JsonSocket,
): void {
  const sp = server.prototype as Methods;
  for (const name of ['handleMessage', 'getRouteFromPattern', 'normalizePattern', 'handleError'])
    assumeOf(LIBRARY, typeof sp[name] === 'function', `ServerTCP has a ${name}() method to override or call`);
  assumeOf(
    LIBRARY,
    (sp.handleMessage as (s: unknown, r: unknown) => unknown).length === 2,
    'ServerTCP.handleMessage() takes (socket, rawMessage)',
  );
  const probe = new server({}) as Record<string, (p: unknown) => unknown>;
  assumeOf(
    LIBRARY,
    probe.getRouteFromPattern('probe.pattern') === probe.normalizePattern('probe.pattern') &&
      probe.getRouteFromPattern('{"cmd":"probe"}') === probe.normalizePattern({ cmd: 'probe' }),
    'ServerTCP.getRouteFromPattern() is normalizePattern() of the JSON-parsed pattern, or of the string itself',
  );

  assumeOf(
    LIBRARY,
    typeof (socket.prototype as Methods).handleSend === 'function',
    'JsonSocket has a protected handleSend(message, callback) to override',
  );
  const raw = new Socket();
  try {
    const json = new socket(raw, { maxBufferSize: 1234 }) as { netSocket?: unknown; maxBufferSize?: unknown };
    assumeOf(LIBRARY, json.netSocket === raw, 'a JsonSocket exposes its net.Socket as netSocket');
    assumeOf(
      LIBRARY,
      json.maxBufferSize === 1234,
      'JsonSocket takes { maxBufferSize } as its second argument',
    );
  } finally {
    raw.destroy();
  }
}

let checked = false;

/** checkNestTcpTransport() for the installed classes, once per process. */
export function assumeNestTcpTransport(): void {
  if (checked) return;
  checkNestTcpTransport();
  checked = true;
}
