import Fastify, { type FastifyInstance } from 'fastify';
import { fastifyHookLists } from './fastify.js';
import { installedVersion, LibraryAssumptionError } from './library-assumption.js';

describe(fastifyHookLists.name, () => {
  it("gives the instance's live hook arrays", async () => {
    const fastify = Fastify();
    const hook = async () => undefined;
    fastify.addHook('onRequest', hook);
    await fastify.after();
    expect(fastifyHookLists(fastify).onRequest).toContain(hook);
    await fastify.close();
  });

  it('fails loudly, naming Fastify and its version, when the hooks are not behind "fastify.hooks"', () => {
    const moved = Object.create(null) as FastifyInstance;
    expect(() => fastifyHookLists(moved)).toThrow(LibraryAssumptionError);
    expect(() => fastifyHookLists(moved)).toThrow(
      new RegExp(`^fastify@${installedVersion('fastify').replace(/\./g, '\\.')} .*"fastify\\.hooks"`),
    );
  });

  it('fails loudly when "fastify.hooks" no longer holds per-stage arrays', () => {
    const reshaped = { [Symbol('fastify.hooks')]: { onRequest: new Set() } } as unknown as FastifyInstance;
    expect(() => fastifyHookLists(reshaped)).toThrow(/onRequest and an onResponse array/);
  });
});
