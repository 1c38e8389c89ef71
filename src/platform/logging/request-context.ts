// The request id (and anything else per request) follows the async call chain, across HTTP and RPC handlers.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

export interface RequestContext {
  requestId: string;
}

export const requestContext = new AsyncLocalStorage<RequestContext>();

export function currentRequestId(): string | undefined {
  return requestContext.getStore()?.requestId;
}

export function newRequestId(): string {
  return randomUUID();
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Accepts a caller's request id only when it is a short safe token; otherwise makes a new one. */
export function acceptRequestId(raw: unknown): string {
  return typeof raw === 'string' && REQUEST_ID.test(raw) ? raw : newRequestId();
}
