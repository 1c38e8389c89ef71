// The request id (and anything else per request) follows the async call chain, across HTTP and RPC handlers.
import { promiseHooks } from 'node:v8';
import { timeOrderedUuid } from '../ids.js';

export interface RequestContext {
  requestId: string;
}

/**
 * A store that follows promises: run() makes it current for a synchronous call, every promise created meanwhile
 * remembers it, and the reactions of that promise (the code after an `await`, a `.then` callback) run with it again.
 * Callback APIs (timers, emitters, nextTick) are not followed: code that hands a callback over and needs the store in
 * it wraps the callback with bind().
 *
 * Hand-written instead of AsyncLocalStorage because on Node 20 that one runs an async_hooks init hook for every
 * async resource the process creates (each nextTick, timer, parser resource, HTTP/2 stream), whether or not a store is
 * current; measured, that is 9% of the CPU of a `POST /exchange` and 14% of a gRPC call. V8's promise hooks cost
 * only where promises are made, and the hot paths make none for a synchronous handler.
 */
export class PromiseContext<T> {
  private current: T | undefined;
  /** What was current before each reaction that is running now (V8 pairs every before with an after). */
  private readonly saved: Array<T | undefined> = [];

  constructor() {
    const key = Symbol('promise context');
    promiseHooks.createHook({
      init: (promise: Promise<unknown>) => {
        if (this.current !== undefined) (promise as unknown as Record<symbol, T>)[key] = this.current;
      },
      before: (promise: Promise<unknown>) => {
        this.saved.push(this.current);
        this.current = (promise as unknown as Record<symbol, T | undefined>)[key];
      },
      after: () => {
        this.current = this.saved.pop();
      },
    });
  }

  /** Runs `fn` with `store` current; promises it creates carry the store into their reactions. */
  run<R>(store: T, fn: () => R): R {
    const previous = this.current;
    this.current = store;
    try {
      return fn();
    } finally {
      this.current = previous;
    }
  }

  getStore(): T | undefined {
    return this.current;
  }

  /** `fn` made to run with the store current now, wherever it is called from later. */
  bind<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
    const store = this.current;
    if (store === undefined) return fn;
    return (...args: A) => this.run(store, () => fn(...args));
  }
}

export const requestContext = new PromiseContext<RequestContext>();

export function currentRequestId(): string | undefined {
  return requestContext.getStore()?.requestId;
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
