// The request id (and anything else per request) follows the async call chain, across HTTP and RPC handlers. The
// store is OpenTelemetry's context: one AsyncLocalStorage, so spans, user code calling `@opentelemetry/api` and the
// platform all see the same request.
import { context, createContextKey, type Context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { timeOrderedUuid } from '../ids.js';

export interface RequestContext {
  requestId: string;
}

const REQUEST = createContextKey('polyrole.request');

/*
 * Registered once per process, when the platform first loads. If something registered its own manager before (an
 * APM agent preloaded with --import), that one is kept: the platform reads and writes through the API either way.
 * On Node 24 AsyncLocalStorage runs on AsyncContextFrame, which costs only where a context is entered and where an
 * async resource captures it, not an async_hooks round for every resource the process makes (Node 20's cost).
 */
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

/** The request a context belongs to, if any. */
export function requestOf(ctx: Context): RequestContext | undefined {
  return ctx.getValue(REQUEST) as RequestContext | undefined;
}

/** `ctx` with `store` as its request. */
export function withRequest(ctx: Context, store: RequestContext): Context {
  return ctx.setValue(REQUEST, store);
}

export const requestContext = {
  /** Runs `fn` with `store` as the current request (on top of the current context: a span stays the parent). */
  run<R>(store: RequestContext, fn: () => R): R {
    return context.with(context.active().setValue(REQUEST, store), fn);
  },

  getStore(): RequestContext | undefined {
    return context.active().getValue(REQUEST) as RequestContext | undefined;
  },

  /** `fn` made to run with the context current now, wherever it is called from later. */
  bind<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
    return context.bind(context.active(), fn);
  },
};

export function currentRequestId(): string | undefined {
  return (context.active().getValue(REQUEST) as RequestContext | undefined)?.requestId;
}

/** Time-ordered, so request ids sort by arrival and index cheaply where they are stored (the event log). */
export function newRequestId(): string {
  return timeOrderedUuid();
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Whether a caller's request id is a short safe token, the only kind the platform takes over. */
export function isUsableRequestId(raw: unknown): raw is string {
  return typeof raw === 'string' && REQUEST_ID.test(raw);
}

/** Accepts a caller's request id only when it is a short safe token; otherwise makes a new one. */
export function acceptRequestId(raw: unknown): string {
  return isUsableRequestId(raw) ? raw : newRequestId();
}
