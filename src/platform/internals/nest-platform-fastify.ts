// Nest's FastifyAdapter, read where it exposes nothing: the fields its request hooks act on. The HTTP edge takes
// those hooks off when none of their features is in use (http-edge.ts, dropIdleAdapterHooks) and then does their
// work itself, so it must read the same state: a renamed field would otherwise read as undefined and the 503 while
// closing, or CORS, be lost without a word.
import type { FastifyInstance } from 'fastify';
import type { HookLists } from './fastify.js';
import { assumeOf } from './library-assumption.js';

const LIBRARY = '@nestjs/platform-fastify';

/** The state of Nest's Fastify adapter that its request hooks act on. */
export interface NestFastifyAdapterState {
  readonly isShuttingDown: boolean;
  readonly return503OnClosing: boolean;
  readonly onRequestHook?: unknown;
  readonly onResponseHook?: unknown;
  readonly corsHook?: unknown;
  readonly securityHook?: unknown;
  readonly versioningOptions?: unknown;
}

const FLAGS = ['isShuttingDown', 'return503OnClosing'] as const;
const FEATURES = [
  'onRequestHook',
  'onResponseHook',
  'corsHook',
  'securityHook',
  'versioningOptions',
] as const;

/** The adapter's hook state, checked to be where Nest 12.5 keeps it; throws a LibraryAssumptionError otherwise. */
export function nestAdapterState(adapter: object): NestFastifyAdapterState {
  for (const field of FLAGS) {
    assumeOf(
      LIBRARY,
      typeof (adapter as Record<string, unknown>)[field] === 'boolean',
      `FastifyAdapter keeps a boolean "${field}" field`,
    );
  }
  for (const field of FEATURES) {
    assumeOf(LIBRARY, field in adapter, `FastifyAdapter declares a "${field}" field`);
  }
  return adapter as NestFastifyAdapterState;
}

/** Whether any feature that needs the adapter's request hooks (CORS, security headers, versioning, hooks) is on. */
export function adapterFeaturesInUse(state: NestFastifyAdapterState): boolean {
  return FEATURES.some((field) => Boolean(state[field]));
}

/**
 * Checks that the hooks on a fresh instance are the set Nest 12.5 installs: six onRequest hooks of the adapter, one
 * of @fastify/middie, and one onResponse hook. Another set (another Nest version, an option that adds its own) is
 * not guessed at.
 */
export function assumeNestAdapterHooks(hooks: HookLists): void {
  assumeOf(
    LIBRARY,
    hooks.onRequest.length === 7 && hooks.onResponse.length === 1,
    'NestFactory.create() leaves 7 onRequest hooks (6 of the adapter, 1 of @fastify/middie) and 1 onResponse hook, ' +
      `found ${hooks.onRequest.length} and ${hooks.onResponse.length}`,
  );
}

const watched = new WeakMap<FastifyInstance, { used: boolean }>();

/**
 * Notes every middleware added from now on, through the `use()` that @fastify/middie decorates the instance and each
 * encapsulated context with (app.use() and module middleware both end there). Call before app.init().
 */
export function watchMiddleware(fastify: FastifyInstance): void {
  if (watched.has(fastify)) return;
  const seen = { used: false };
  watched.set(fastify, seen);
  const wrap = (instance: FastifyInstance) => {
    const use = (instance as unknown as { use?: (...args: unknown[]) => unknown }).use;
    assumeOf('@fastify/middie', typeof use === 'function', 'a Fastify instance has a use() decorator');
    Object.assign(instance, {
      use(this: FastifyInstance, ...args: unknown[]) {
        seen.used = true;
        return use.apply(this, args);
      },
    });
  };
  wrap(fastify);
  // middie gives each new context a use() of its own (and a copy of its parent's middleware, already seen).
  fastify.addHook('onRegister', (instance) => {
    if (Object.hasOwn(instance, 'use')) wrap(instance);
  });
}

/** Whether middleware was added since watchMiddleware(). */
export function middlewareAdded(fastify: FastifyInstance): boolean {
  const seen = watched.get(fastify);
  if (!seen) throw new Error('middlewareAdded() needs watchMiddleware() first');
  return seen.used;
}
