import { setTimeout as sleep } from 'node:timers/promises';
import { PromiseContext, currentRequestId, requestContext } from './request-context.js';

describe('PromiseContext', () => {
  const ctx = new PromiseContext<string>();
  const outside = Promise.resolve('shared');

  it('is current inside run() and gone after it, also when fn throws', () => {
    expect(ctx.run('a', () => ctx.getStore())).toBe('a');
    expect(ctx.getStore()).toBeUndefined();
    expect(() =>
      ctx.run('b', () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(ctx.getStore()).toBeUndefined();
  });

  it('nests and restores the outer store', () => {
    const seen = ctx.run('outer', () => [
      ctx.getStore(),
      ctx.run('inner', () => ctx.getStore()),
      ctx.getStore(),
    ]);
    expect(seen).toEqual(['outer', 'inner', 'outer']);
  });

  it('follows awaits: of a timer, of a promise made outside, of a resolved value, in chains and Promise.all', async () => {
    const seen = await ctx.run('req-1', async () => {
      const out: Array<string | undefined> = [];
      await sleep(5);
      out.push(ctx.getStore());
      await outside;
      out.push(ctx.getStore());
      await 42;
      out.push(ctx.getStore());
      out.push(await outside.then(() => ctx.getStore()));
      const all = await Promise.all([sleep(1).then(() => ctx.getStore()), (async () => ctx.getStore())()]);
      out.push(...all);
      return out;
    });
    expect(seen).toEqual(Array(6).fill('req-1'));
    expect(ctx.getStore()).toBeUndefined();
  });

  it('follows a for-await over an async generator', async () => {
    async function* ticks() {
      for (let i = 0; i < 3; i++) {
        await sleep(1);
        yield ctx.getStore();
      }
    }
    const seen = await ctx.run('gen', async () => {
      const out: Array<string | undefined> = [];
      for await (const s of ticks()) out.push(s, ctx.getStore());
      return out;
    });
    expect(seen).toEqual(Array(6).fill('gen'));
  });

  it('keeps concurrent runs apart', async () => {
    const one = (id: string, ms: number) =>
      ctx.run(id, async () => {
        const out: Array<string | undefined> = [];
        for (let i = 0; i < 5; i++) {
          await sleep(ms);
          out.push(ctx.getStore());
          await null;
          out.push(ctx.getStore());
        }
        return out;
      });
    const [a, b, c] = await Promise.all([one('a', 1), one('b', 2), one('c', 0)]);
    expect(a).toEqual(Array(10).fill('a'));
    expect(b).toEqual(Array(10).fill('b'));
    expect(c).toEqual(Array(10).fill('c'));
    expect(ctx.getStore()).toBeUndefined();
  });

  it('does not leak into reactions of promises made outside any run', async () => {
    let resolve!: () => void;
    const later = new Promise<void>((r) => (resolve = r));
    const observed = later.then(() => ctx.getStore());
    ctx.run('x', () => resolve());
    expect(await observed).toBeUndefined();
  });

  it('carries a store into a callback only when bound', async () => {
    const seen = await ctx.run('cb', () => {
      const bare = new Promise<string | undefined>((r) => setTimeout(() => r(ctx.getStore()), 1));
      const bound = new Promise<string | undefined>((r) =>
        setTimeout(
          ctx.bind(() => r(ctx.getStore())),
          1,
        ),
      );
      return Promise.all([bare, bound]);
    });
    expect(seen).toEqual([undefined, 'cb']);
  });

  it('backs currentRequestId()', async () => {
    const id = await requestContext.run({ requestId: 'r-9' }, async () => {
      await sleep(1);
      return currentRequestId();
    });
    expect(id).toBe('r-9');
    expect(currentRequestId()).toBeUndefined();
  });
});
