// Fastify's hook storage, which it does not expose: an instance keeps its hooks in per-stage arrays behind the
// private symbol `fastify.hooks` (kHooks in lib/symbols.js), and each route copies them when the instance is ready.
// Fastify has no way to remove a hook; the HTTP edge filters these arrays (http-edge.ts, dropIdleAdapterHooks).
import type { FastifyInstance } from 'fastify';
import { assumeOf } from './library-assumption.js';

export type HookLists = Record<'onRequest' | 'onResponse', unknown[]>;

/** The live hook arrays of an instance; throws a LibraryAssumptionError naming Fastify when they are not there. */
export function fastifyHookLists(fastify: FastifyInstance): HookLists {
  const key = Object.getOwnPropertySymbols(fastify).find((s) => s.description === 'fastify.hooks');
  assumeOf('fastify', key, 'an instance keeps its hooks behind an own symbol described "fastify.hooks"');
  const lists = (fastify as unknown as Record<symbol, Partial<HookLists> | undefined>)[key];
  assumeOf(
    'fastify',
    lists && Array.isArray(lists.onRequest) && Array.isArray(lists.onResponse),
    'the "fastify.hooks" object holds an onRequest and an onResponse array',
  );
  return lists as HookLists;
}
