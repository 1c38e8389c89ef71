import { BootContext } from '../boot-context.js';
import { AppError } from '../errors/app-error.js';
import { platformSettings } from '../platform.settings.js';
import { resolveSettings } from '../config/settings.js';
import type { ModulePart } from '../part.js';
import { rpcPattern } from './contract.js';
import type { RpcDone, RpcHandlerMeta } from './rpc-handler.decorator.js';
import { RpcHub } from './rpc-hub.js';
import type { RpcRegistry } from './rpc-registry.js';

const patterns = {
  safe: rpcPattern<{ n: number }, { n: number }>('test.safe', { idempotent: true }),
  unsafe: rpcPattern<{ n: number }, { n: number }>('test.unsafe', { idempotent: false }),
};

/** A registry whose handlers fail with `failures` transport errors before answering. */
function registryFailing(failures: number) {
  const calls: unknown[] = [];
  const handler = (pattern: string): RpcHandlerMeta => ({
    def: { pattern, idempotent: true },
    run: () => Promise.reject(new Error('the hub calls handlers through call()')),
    call: (_i, data, _rid, _t, done) => {
      calls.push(data);
      if (calls.length <= failures)
        return done(new AppError(503, 'peer_unavailable', 'exchange is unavailable'));
      done(undefined, { ...(data as object), answered: true });
    },
  });
  const registry = { get: (p: string) => ({ meta: handler(p), instance: {} }) } as unknown as RpcRegistry;
  return { registry, calls };
}

function hub(registry: RpcRegistry) {
  const platform = resolveSettings(platformSettings, {
    env: { RPC_TIMEOUT_MS: '2000' },
    configDir: '/nonexistent',
  });
  const parts = [{ name: 'exchange' } as ModulePart];
  return new RpcHub(
    new BootContext(['exchange'], parts, platform, new Map(), new Map(), undefined, '0.0.0'),
    registry,
  );
}

describe(RpcHub.name, () => {
  it('retries an idempotent pattern after a transport failure', async () => {
    const { registry, calls } = registryFailing(2);
    await expect(hub(registry).call('exchange', patterns.safe, { n: 1 })).resolves.toEqual({
      n: 1,
      answered: true,
    });
    expect(calls).toHaveLength(3);
  });

  it('never retries a pattern that is not idempotent', async () => {
    const { registry, calls } = registryFailing(1);
    await expect(hub(registry).call('exchange', patterns.unsafe, { n: 1 })).rejects.toMatchObject({
      status: 503,
      code: 'peer_unavailable',
    });
    expect(calls).toHaveLength(1);
  });

  it('hands the handler a copy of the arguments and the caller a copy of the result', async () => {
    const { registry, calls } = registryFailing(0);
    const req = { n: 1 };
    const res = await hub(registry).call('exchange', patterns.safe, req);
    expect(calls[0]).not.toBe(req);
    (calls[0] as { n: number }).n = 99;
    expect(req.n).toBe(1);
    expect(res).toEqual({ n: 1, answered: true });
  });

  it('turns a local handler error into a fresh AppError, as if it had crossed the wire', async () => {
    const original = new AppError(400, 'bad_request', 'nope');
    const registry = {
      get: () => ({
        meta: { call: (_i: object, _d: unknown, _r: unknown, _t: unknown, done: RpcDone) => done(original) },
        instance: {},
      }),
    } as unknown as RpcRegistry;
    const err = await hub(registry)
      .call('exchange', patterns.unsafe, { n: 1 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).not.toBe(original);
    expect(err).toMatchObject({ status: 400, code: 'bad_request', message: 'nope' });
  });

  it('times out a local handler that never answers, and lets a late answer go', async () => {
    let late: RpcDone | undefined;
    const registry = {
      get: () => ({
        meta: { call: (_i: object, _d: unknown, _r: unknown, _t: unknown, done: RpcDone) => (late = done) },
        instance: {},
      }),
    } as unknown as RpcRegistry;
    const err = await hub(registry)
      .call('exchange', patterns.unsafe, { n: 1 }, { timeoutMs: 50 })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 504, code: 'rpc_timeout' });
    expect(late).toBeInstanceOf(Function); // the handler was called, and its answer came too late
    expect(() => late!(undefined, { n: 2 })).not.toThrow();
  });
});
