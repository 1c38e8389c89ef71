// RpcServer answers @RpcHandler patterns straight from the handler; over real TCP its reply packets must be the
// ones Nest's own pipeline sends for the same handlers, so stock ClientTCP callers notice nothing.
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { DiscoveryModule, NestFactory } from '@nestjs/core';
import { EventPattern } from '@nestjs/microservices';
import { IsInt, Min } from 'class-validator';
import { connect, type Socket } from 'node:net';
import { AppError } from '../errors/app-error.js';
import { requestContext } from '../logging/request-context.js';
import { rpcPattern } from './contract.js';
import { RpcHandler } from './rpc-handler.decorator.js';
import { RpcRegistry } from './rpc-registry.js';
import { RpcServer } from './rpc-server.js';
import type { CallerPolicy } from './rpc-tls.js';

class CountDto {
  @IsInt()
  @Min(1)
  n!: number;
}

const p = {
  double: rpcPattern<CountDto, { n: number }>('test.double', { idempotent: false }),
  later: rpcPattern<CountDto, { n: number; requestId?: string }>('test.later', { idempotent: false }),
  refuse: rpcPattern<object, never>('test.refuse', { idempotent: false }),
  crash: rpcPattern<object, never>('test.crash', { idempotent: false }),
  nothing: rpcPattern<object, void>('test.nothing', { idempotent: false }),
};

const events: unknown[] = [];

@Controller()
class TestController {
  @RpcHandler(p.double)
  double(dto: CountDto) {
    return { n: dto.n * 2 };
  }

  @RpcHandler(p.later)
  async later(dto: CountDto) {
    await new Promise((r) => setTimeout(r, 5));
    return { n: dto.n + 1, requestId: requestContext.getStore()?.requestId };
  }

  @RpcHandler(p.refuse)
  refuse(): never {
    throw new AppError(409, 'conflict', 'already there');
  }

  @RpcHandler(p.crash)
  crash(): never {
    throw new Error('boom');
  }

  @RpcHandler(p.nothing)
  nothing(): void {}

  @EventPattern('test.event')
  event(data: unknown) {
    events.push(data);
  }
}

@Module({ imports: [DiscoveryModule], controllers: [TestController], providers: [RpcRegistry] })
class TestModule {}

/** Patterns whose Nest-wrapped handler (Nest's per-message pipeline) ran. */
const throughNest: string[] = [];

async function start(
  direct: boolean,
  callers?: CallerPolicy,
): Promise<{ app: INestMicroservice; port: number }> {
  const server = new RpcServer({ host: '127.0.0.1', port: 0, maxMessageBytes: 1 << 20, callers });
  const app = await NestFactory.createMicroservice(TestModule, { strategy: server, logger: false });
  // As bootstrap.ts wires it: the registry finds the handlers when the app initialises.
  if (direct) {
    const registry = app.get(RpcRegistry);
    server.useHandlers((pattern) => registry.get(pattern));
  }
  await app.listen();
  for (const [pattern, handler] of server.getHandlers()) {
    const counted = Object.assign(
      (data: unknown, ctx?: never) => (throughNest.push(pattern), handler(data, ctx)),
      handler,
    );
    server.getHandlers().set(pattern, counted);
  }
  const port = (server.unwrap<import('node:net').Server>().address() as { port: number }).port;
  return { app, port };
}

/** Sends Nest TCP frames and collects the reply frames until `count` have arrived. */
function exchange(
  port: number,
  packets: Array<object | string>,
  count: number,
): Promise<Array<Record<string, unknown>>> {
  return new Promise((resolve, reject) => {
    const sock: Socket = connect(port, '127.0.0.1', () => {
      for (const packet of packets) {
        const json = typeof packet === 'string' ? packet : JSON.stringify(packet);
        sock.write(`${json.length}#${json}`);
      }
    });
    let buf = '';
    const replies: Array<Record<string, unknown>> = [];
    sock.setEncoding('utf8');
    sock.on('error', reject);
    sock.on('close', () =>
      reject(new Error(`connection closed after ${replies.length} of ${count} replies`)),
    );
    sock.on('data', (chunk: string) => {
      buf += chunk;
      for (let hash = buf.indexOf('#'); hash > 0; hash = buf.indexOf('#')) {
        const len = Number(buf.slice(0, hash));
        if (buf.length < hash + 1 + len) break;
        replies.push(JSON.parse(buf.slice(hash + 1, hash + 1 + len)));
        buf = buf.slice(hash + 1 + len);
      }
      if (replies.length >= count) {
        sock.destroy();
        resolve(replies);
      }
    });
  });
}

const requests = [
  { id: 1, pattern: 'test.double', data: { n: 21 } },
  { id: 2, pattern: 'test.double', data: { n: 0, extra: true } },
  { id: 3, pattern: 'test.later', data: { n: 1 }, metadata: { requestId: 'rid-1' } },
  { id: 4, pattern: 'test.refuse', data: {} },
  { id: 5, pattern: 'test.crash', data: {} },
  { id: 6, pattern: 'test.nothing', data: {} },
  { id: 7, pattern: 'test.unknown', data: {} },
  { pattern: 'test.event', data: { seen: true } },
];

/** Replies by id, each with every frame Nest sent for it merged (a result and its end may come as two frames). */
async function repliesOf(direct: boolean): Promise<Map<unknown, Record<string, unknown>>> {
  throughNest.length = 0;
  const { app, port } = await start(direct);
  try {
    const frames = await exchange(port, requests, 7);
    // Nest may still send a separate `{ isDisposed: true }` frame for a result already sent: wait for stragglers.
    const more = await exchange(port, [{ id: 99, pattern: 'test.double', data: { n: 1 } }], 1);
    const byId = new Map<unknown, Record<string, unknown>>();
    for (const f of [...frames, ...more]) byId.set(f.id, { ...byId.get(f.id), ...f });
    return byId;
  } finally {
    await app.close();
  }
}

describe(RpcServer.name, () => {
  it('answers @RpcHandler patterns with the same packets as Nest pipeline, and leaves events and unknown patterns to Nest', async () => {
    events.length = 0;
    const viaNest = await repliesOf(false);
    expect(events).toEqual([{ seen: true }]);
    expect(throughNest.sort()).toEqual([
      'test.crash',
      'test.double',
      'test.double',
      'test.double',
      'test.event',
      'test.later',
      'test.nothing',
      'test.refuse',
    ]);
    events.length = 0;
    const direct = await repliesOf(true);
    expect(events).toEqual([{ seen: true }]);
    expect(throughNest).toEqual(['test.event']);

    const view = (m: Map<unknown, Record<string, unknown>>) =>
      [...m.entries()]
        .map(([id, r]) => [id, { ...r, err: r.err ?? null }] as const)
        .sort(([a], [b]) => Number(a) - Number(b));
    expect(view(direct)).toEqual(view(viaNest));

    expect(direct.get(1)).toMatchObject({ response: { n: 42 }, isDisposed: true });
    expect(direct.get(2)).toMatchObject({
      err: { status: 400, code: 'validation_failed' },
      isDisposed: true,
    });
    expect(direct.get(3)).toMatchObject({ response: { n: 2, requestId: 'rid-1' } });
    expect(direct.get(4)).toMatchObject({ err: { status: 409, code: 'conflict', message: 'already there' } });
    expect(direct.get(5)).toMatchObject({ err: { status: 500, code: 'internal' } });
    expect(direct.get(6)).toMatchObject({ isDisposed: true });
    expect(direct.get(7)).toMatchObject({
      status: 'error',
      err: expect.stringMatching(/no matching message handler/i),
    });
  });

  it('refuses a caller the policy does not allow, and a pattern too deep or too long to name, keeping the connection', async () => {
    // Without a certificate nobody is allowed: the policy path runs for every packet.
    const { app, port } = await start(true, () => new Set(['generator']));
    try {
      const deep = `{"id":2,"pattern":${'{"p":'.repeat(100_000)}"x"${'}'.repeat(100_000)},"data":{}}`;
      const replies = await exchange(
        port,
        [
          { id: 1, pattern: 'test.double', data: { n: 1 } },
          deep,
          { id: 3, pattern: 'x'.repeat(513), data: {} },
          { id: 4, pattern: 'test.double', data: { n: 1 } },
        ],
        4,
      );
      // The deep and the long pattern are refused as such, on every Node version; the packets after them are answered.
      expect(replies).toEqual([
        expect.objectContaining({
          id: 1,
          err: expect.objectContaining({ status: 403, code: 'caller_not_allowed' }),
        }),
        expect.objectContaining({
          id: 2,
          err: expect.objectContaining({ status: 400, code: 'invalid_pattern' }),
        }),
        expect.objectContaining({
          id: 3,
          err: expect.objectContaining({ status: 400, code: 'invalid_pattern' }),
        }),
        expect.objectContaining({ id: 4, err: expect.objectContaining({ code: 'caller_not_allowed' }) }),
      ]);
    } finally {
      await app.close();
    }
  });
});
