// Fastify-level plumbing for every role: request ids, access logs, latency metrics and problem responses for
// errors raised before Nest sees the request (malformed JSON, oversized bodies, unknown routes, oversized headers).
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { Socket } from 'node:net';
import { accessLogEnabled, createLogger } from '../logging/logger.js';
import { acceptRequestId, newRequestId, requestContext } from '../logging/request-context.js';
import { observeHttp } from '../metrics/metrics.js';
import { DtoValidationPipe } from '../validation/validation.pipe.js';
import { compileRoutes } from './compiled-routes.js';
import { clientErrorProblem } from './problem.js';
import { ProblemFilter, sendProblem } from './problem.filter.js';

const log = createLogger('http');

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
      `Connection: close\r\n\r\n${body}`,
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
    genReqId: (req: { headers: Record<string, unknown> }) => acceptRequestId(req.headers['x-request-id']),
    forceCloseConnections: 'idle' as const,
    return503OnClosing: true,
  };
}

/**
 * Call after NestFactory.create() and before app.init(): it decides how the routes are registered. Returns the
 * routes served by a compiled handler (compiled-routes.ts).
 */
export function configureHttpEdge(app: NestFastifyApplication, limits: { bodyLimit: number }): string[] {
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  // A GET may carry a JSON body (the seed exchange is called that way): parsed, limited and rejected like any body.
  fastify.addHttpMethod('GET', { hasBody: true, overrideExisting: true });

  fastify.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    done();
  });
  const access = accessLogEnabled();
  fastify.addHook('onResponse', (req, reply, done) => {
    const status = reply.statusCode;
    observeHttp(req.method, routeOf(req), status, reply.elapsedTime / 1000);
    if (access) {
      log.info(
        { requestId: req.id, method: req.method, url: req.url, status, ms: reply.elapsedTime },
        'request completed',
      );
    }
    done();
  });
  // Nest's JSON parser reads the body into a Buffer and then hands it to Fastify's default JSON parser; Fastify's
  // own parser does the same from a string, one copy less. The form parser is Nest's, as before.
  app.useBodyParser('application/x-www-form-urlencoded', { bodyLimit: limits.bodyLimit });
  // Nest routes Fastify's own errors (body parsing, limits) and unknown routes through the global filter.
  app.useGlobalFilters(new ProblemFilter(limits));
  app.useGlobalPipes(new DtoValidationPipe());
  const compiled = compileRoutes(app, limits);
  // The request context is entered by the route's handler itself (after compileRoutes swapped it in), not by a
  // preHandler hook: one hook fewer on every request. Body parsing before it runs on stream callbacks that would
  // lose the context anyway.
  fastify.addHook('onRoute', (route: RouteOptions) => {
    const handler = route.handler;
    route.handler = function (this: FastifyInstance, req, reply) {
      return requestContext.run({ requestId: String(req.id) }, () => handler.call(this, req, reply));
    };
  });
  return compiled;
}

function routeOf(req: FastifyRequest): string {
  return req.routeOptions?.url ?? 'unmatched';
}
