import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT_CONTEXT, context, trace } from '@opentelemetry/api';
import { currentRequestId, requestContext, requestOf } from './request-context.js';

const id = () => requestContext.getStore()?.requestId;

describe('requestContext', () => {
  const outside = Promise.resolve('shared');

  it('is current inside run() and gone after it, also when fn throws', () => {
    expect(requestContext.run({ requestId: 'a' }, id)).toBe('a');
    expect(requestContext.getStore()).toBeUndefined();
    expect(() =>
      requestContext.run({ requestId: 'b' }, () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(requestContext.getStore()).toBeUndefined();
  });

  it('nests and restores the outer store', () => {
    const seen = requestContext.run({ requestId: 'outer' }, () => [
      id(),
      requestContext.run({ requestId: 'inner' }, id),
      id(),
    ]);
    expect(seen).toEqual(['outer', 'inner', 'outer']);
  });

  it('follows awaits: of a timer, of a promise made outside, of a resolved value, in chains and Promise.all', async () => {
    const seen = await requestContext.run({ requestId: 'req-1' }, async () => {
      const out: Array<string | undefined> = [];
      await sleep(5);
      out.push(id());
      await outside;
      out.push(id());
      await 42;
      out.push(id());
      out.push(await outside.then(id));
      const all = await Promise.all([sleep(1).then(id), (async () => id())()]);
      out.push(...all);
      return out;
    });
    expect(seen).toEqual(Array(6).fill('req-1'));
    expect(requestContext.getStore()).toBeUndefined();
  });

  it('follows a for-await over an async generator', async () => {
    async function* ticks() {
      for (let i = 0; i < 3; i++) {
        await sleep(1);
        yield id();
      }
    }
    const seen = await requestContext.run({ requestId: 'gen' }, async () => {
      const out: Array<string | undefined> = [];
      for await (const s of ticks()) out.push(s, id());
      return out;
    });
    expect(seen).toEqual(Array(6).fill('gen'));
  });

  it('keeps concurrent runs apart', async () => {
    const one = (requestId: string, ms: number) =>
      requestContext.run({ requestId }, async () => {
        const out: Array<string | undefined> = [];
        for (let i = 0; i < 5; i++) {
          await sleep(ms);
          out.push(id());
          await null;
          out.push(id());
        }
        return out;
      });
    const [a, b, c] = await Promise.all([one('a', 1), one('b', 2), one('c', 0)]);
    expect(a).toEqual(Array(10).fill('a'));
    expect(b).toEqual(Array(10).fill('b'));
    expect(c).toEqual(Array(10).fill('c'));
    expect(requestContext.getStore()).toBeUndefined();
  });

  it('does not leak into reactions of promises made outside any run', async () => {
    let resolve!: () => void;
    const later = new Promise<void>((r) => (resolve = r));
    const observed = later.then(id);
    requestContext.run({ requestId: 'x' }, () => resolve());
    expect(await observed).toBeUndefined();
  });

  it('follows callbacks handed to timers and nextTick; an emitter calls its listeners in the emitter’s context', async () => {
    const emitter = new EventEmitter();
    const heard = new Promise<string | undefined>((r) => emitter.once('ping', () => r(id())));
    const seen = await requestContext.run({ requestId: 'cb' }, () => {
      const timer = new Promise<string | undefined>((r) => setTimeout(() => r(id()), 1));
      const tick = new Promise<string | undefined>((r) => process.nextTick(() => r(id())));
      emitter.emit('ping');
      return Promise.all([timer, tick, heard]);
    });
    expect(seen).toEqual(['cb', 'cb', 'cb']);
    const bound = requestContext.run({ requestId: 'bound' }, () => requestContext.bind(id));
    expect(bound()).toBe('bound');
  });

  it('is OpenTelemetry’s context: a span made current inside a request keeps the request, and the API sees both', () => {
    const span = trace.wrapSpanContext({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 });
    const seen = requestContext.run({ requestId: 'otel' }, () =>
      context.with(trace.setSpan(context.active(), span), () => ({
        requestId: currentRequestId(),
        fromApi: requestOf(context.active())?.requestId,
        spanId: trace.getActiveSpan()?.spanContext().spanId,
      })),
    );
    expect(seen).toEqual({ requestId: 'otel', fromApi: 'otel', spanId: 'b'.repeat(16) });
    expect(requestOf(ROOT_CONTEXT)).toBeUndefined();
  });

  it('backs currentRequestId()', async () => {
    const rid = await requestContext.run({ requestId: 'r-9' }, async () => {
      await sleep(1);
      return currentRequestId();
    });
    expect(rid).toBe('r-9');
    expect(currentRequestId()).toBeUndefined();
  });
});
