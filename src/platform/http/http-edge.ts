// Fastify-level plumbing for every role: request ids, access logs, latency metrics and problem responses for
// errors raised before Nest sees the request (malformed JSON, oversized bodies, unknown routes, oversized headers).
import { ServiceUnavailableException } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ROOT_CONTEXT, context, trace } from '@opentelemetry/api';
import { ATTR_HTTP_ROUTE } from '@opentelemetry/semantic-conventions';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { fastifyHookLists, type HookLists } from '../internals/fastify.js';
import {
  adapterFeaturesInUse,
  assumeNestAdapterHooks,
  middlewareAdded,
  nestAdapterState,
  watchMiddleware,
} from '../internals/nest-platform-fastify.js';
import { acceptRequestId, newRequestId, withRequest } from '../logging/request-context.js';
import { DtoValidationPipe } from '../validation/validation.pipe.js';
import { markStarted, recordAnswer, requestSpan } from './answers.js';
import { compileRoutes } from './compiled-routes.js';
import { clientErrorProblem } from './problem.js';
import { ProblemFilter, sendProblem } from './problem.filter.js';
import { DOCS_CSP, SECURITY_HEAD_LINES, securityHeaders } from './security-headers.js';

/** How long a rejected connection keeps draining what the client still sends before it is cut. */
const LINGER_MS = 2_000;

/**
 * Node's parser rejected the bytes before a request existed (headers over its limit, a timeout): still a problem.
 * The answer is followed by a lingering close, as nginx does: half-close, then read and drop what the client is still
 * sending. Closing with unread bytes, or with bytes still on the way, makes the kernel answer them with a reset,
 * and a client that is still writing then loses the answer it had not read yet.
 */
function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  // Node's parser reports every later chunk of a rejected connection again: answer it once.
  if (err.code === 'ECONNRESET' || socket.destroyed || socket.writableEnded) return;
  if (!socket.writable) return void socket.destroy(err);
  const problem = { ...clientErrorProblem(err), requestId: newRequestId() };
  const body = JSON.stringify(problem);
  socket.end(
    `HTTP/1.1 ${problem.status} ${problem.title}\r\nContent-Type: application/problem+json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nx-request-id: ${problem.requestId}\r\n` +
      `${SECURITY_HEAD_LINES}Connection: close\r\n\r\n${body}`,
  );
  socket.resume();
  const cut = setTimeout(() => socket.destroy(), LINGER_MS);
  cut.unref();
  socket.once('close', () => clearTimeout(cut));
}

export function fastifyOptions(bodyLimit: number, trustedProxies: readonly string[] = []) {
  return {
    // request.ip: the socket's peer, or the X-Forwarded-For entry a trusted proxy added (never one it passed on).
    trustProxy: trustedProxies.length > 0 ? [...trustedProxies] : false,
    // Errors Fastify raises before routing (a malformed URL) get the same problem body as everything else.
    frameworkErrors: (err: Error, req: FastifyRequest, reply: FastifyReply) =>
      sendProblem(err, req, reply, { bodyLimit }),
    clientErrorHandler,
    bodyLimit,
    logger: false,
    requestIdHeader: false as const,
    genReqId: (req: IncomingMessage) => {
      markStarted(req);
      return acceptRequestId(req.headers['x-request-id']);
    },
    forceCloseConnections: 'idle' as const,
    return503OnClosing: true,
  };
}

/** The OpenAPI pages (the Swagger UI, its assets, /docs-json): who may read them, and their page policy. */
export interface DocsAccess {
  /** Path prefix of every docs route, e.g. `/docs` (covers `/docs-json` too). */
  prefix: string;
  /** Why a request is refused, or undefined to serve it. */
  refusal(req: FastifyRequest): Error | undefined;
}

/**
 * Call after NestFactory.create() and before app.init(): it decides how the routes are registered. Returns the
 * routes served by a compiled handler (compiled-routes.ts).
 */
export function configureHttpEdge(
  app: NestFastifyApplication,
  limits: { bodyLimit: number },
  docs?: DocsAccess,
): string[] {
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  // A GET may carry a JSON body (the seed exchange is called that way): parsed, limited and rejected like any body.
  fastify.addHttpMethod('GET', { hasBody: true, overrideExisting: true });

  adapterHooks.set(fastify, snapshotAdapterHooks(fastify));
  watchMiddleware(fastify);
  // Nest's JSON parser reads the body into a Buffer and then hands it to Fastify's default JSON parser; Fastify's
  // own parser does the same from a string, one copy less. The form parser is Nest's, as before.
  app.useBodyParser('application/x-www-form-urlencoded', { bodyLimit: limits.bodyLimit });
  // Nest routes Fastify's own errors (body parsing, limits) and unknown routes through the global filter.
  app.useGlobalFilters(new ProblemFilter(limits));
  app.useGlobalPipes(new DtoValidationPipe());
  const compiled = compileRoutes(app, limits);
  // What every route does before its handler runs is done by the route's handler itself (after compileRoutes
  // swapped it in), not by onRequest/preHandler hooks: with no hook of a stage left, Fastify skips that stage.
  // Answers that never reach a route (not found, parse errors) get the request id header from sendProblem().
  const state = nestAdapterState(app.getHttpAdapter());
  fastify.addHook('onRoute', (route: RouteOptions) => {
    guardDocs(route, docs, limits);
    const handler = route.handler;
    // The server span's name, `{method} {route}` (made once per route, not per request).
    const spanName = typeof route.method === 'string' ? `${route.method} ${route.url}` : undefined;
    route.handler = function (this: FastifyInstance, req, reply) {
      securityHeaders(reply.header('x-request-id', req.id));
      // What Nest's adapter hooks did for every request, when dropIdleAdapterHooks() took them off: with Nest's
      // return503OnClosing, a 503 from the start of app.close() (its shutdown hooks still run), and not found for a
      // request target that does not start with a slash (`*`, the absolute form).
      if (state.isShuttingDown && state.return503OnClosing) return shuttingDown(req, reply, limits);
      if (req.raw.url?.charCodeAt(0) !== 47) return reply.callNotFound();
      const span = requestSpan(req.raw);
      if (span?.isRecording()) {
        span.updateName(spanName ?? `${req.method} ${route.url}`);
        span.setAttribute(ATTR_HTTP_ROUTE, route.url);
      }
      const ctx = withRequest(span ? trace.setSpan(ROOT_CONTEXT, span) : ROOT_CONTEXT, {
        requestId: String(req.id),
      });
      const out = context.with(ctx, handler, this, req, reply);
      // The answer is recorded once the handler is done with it (sendProblem leaves those to this wrapper). A
      // rejection is answered by the error handler through sendProblem, outside the context, which records it.
      if (out === reply || typeof (out as Promise<unknown> | undefined)?.then !== 'function') {
        recordAnswer(req, reply);
        return out;
      }
      return (out as Promise<unknown>).then((value) => (recordAnswer(req, reply), value));
    };
  });
  return compiled;
}

/**
 * The docs routes are Fastify routes the Swagger module adds (no Nest guard reaches them): each gets the page
 * policy and, before its handler, the access check.
 */
function guardDocs(route: RouteOptions, docs: DocsAccess | undefined, limits: { bodyLimit: number }): void {
  if (!docs || !String(route.url).startsWith(docs.prefix)) return;
  const handler = route.handler;
  route.handler = function (this: FastifyInstance, req, reply) {
    reply.header('content-security-policy', DOCS_CSP);
    const refused = docs.refusal(req);
    if (refused) return void sendProblem(refused, req, reply, limits);
    return handler.call(this, req, reply);
  };
}

function shuttingDown(req: FastifyRequest, reply: FastifyReply, limits: { bodyLimit: number }): FastifyReply {
  if (req.raw.httpVersionMajor !== 2) reply.header('connection', 'close');
  sendProblem(new ServiceUnavailableException('The server is shutting down'), req, reply, limits);
  return reply;
}

/** The hooks on the instance before the edge adds any: all of them Nest's (its adapter's and middie's). */
const adapterHooks = new WeakMap<FastifyInstance, HookLists>();

function snapshotAdapterHooks(fastify: FastifyInstance): HookLists {
  const lists = fastifyHookLists(fastify);
  assumeNestAdapterHooks(lists);
  return { onRequest: [...lists.onRequest], onResponse: [...lists.onResponse] };
}

/**
 * Call after app.init() and before app.listen(), once every route and enhancer is in place. Nest's Fastify adapter
 * installs seven onRequest hooks and an onResponse hook whether or not their features are used (CORS, security
 * headers, versioning, its request/response hooks, middleware through middie); with none in use they do nothing,
 * and running them cost about 5% of a small request's CPU (measured with and without them). Hand-written because
 * Fastify has no way to remove a hook: they are filtered out of the instance's lists before the routes copy them.
 * Returns whether they were taken off; with any of those features in use every hook stays.
 */
export async function dropIdleAdapterHooks(app: NestFastifyApplication): Promise<boolean> {
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  const state = nestAdapterState(app.getHttpAdapter());
  const nest = adapterHooks.get(fastify);
  if (!nest) throw new Error('dropIdleAdapterHooks() needs configureHttpEdge() first');
  // Plugins registered so far load now (app.enableCors() sets its hook only once @fastify/cors has loaded).
  await fastify.after();
  const inUse = () => adapterFeaturesInUse(state) || middlewareAdded(fastify);
  if (inUse()) return false;
  const lists = fastifyHookLists(fastify);
  for (const stage of ['onRequest', 'onResponse'] as const) {
    const drop = new Set(nest[stage]);
    lists[stage] = lists[stage].filter((h) => !drop.has(h));
  }
  // A feature switched on later would silently do nothing without its hook: refuse to start instead.
  fastify.addHook('onReady', async () => {
    if (inUse())
      throw new Error("a feature that needs Nest's request hooks was enabled after dropIdleAdapterHooks()");
  });
  return true;
}
