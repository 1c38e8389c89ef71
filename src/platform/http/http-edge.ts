// Fastify-level plumbing for every role: request ids, access logs, latency metrics and problem responses for
// errors raised before Nest sees the request (malformed JSON, oversized bodies, unknown routes).
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createLogger } from '../logging/logger.js';
import { acceptRequestId, requestContext } from '../logging/request-context.js';
import { observeHttp } from '../metrics/metrics.js';
import { ProblemFilter, sendProblem } from './problem.filter.js';
import { DtoValidationPipe } from '../validation/validation.pipe.js';

const log = createLogger('http');

export function fastifyOptions(bodyLimit: number, trustedProxies: readonly string[] = []) {
  return {
    // request.ip: the socket's peer, or the X-Forwarded-For entry a trusted proxy added (never one it passed on).
    trustProxy: trustedProxies.length > 0 ? [...trustedProxies] : false,
    // Errors Fastify raises before routing (a malformed URL) get the same problem body as everything else.
    frameworkErrors: (err: Error, req: FastifyRequest, reply: FastifyReply) =>
      sendProblem(err, req, reply, { bodyLimit }),
    bodyLimit,
    logger: false,
    requestIdHeader: false as const,
    genReqId: (req: { headers: Record<string, unknown> }) => acceptRequestId(req.headers['x-request-id']),
    forceCloseConnections: 'idle' as const,
    return503OnClosing: true,
  };
}

export function configureHttpEdge(app: NestFastifyApplication, limits: { bodyLimit: number }): void {
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  // A GET may carry a JSON body (the seed exchange is called that way): parsed, limited and rejected like any body.
  fastify.addHttpMethod('GET', { hasBody: true, overrideExisting: true });

  fastify.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    done();
  });
  // Entered right before the handler: body parsing in between runs on stream callbacks that lose the context.
  fastify.addHook('preHandler', (req, _reply, done) =>
    requestContext.run({ requestId: String(req.id) }, done),
  );
  fastify.addHook('onResponse', (req, reply, done) => {
    const route = routeOf(req);
    const status = reply.statusCode;
    const seconds = reply.elapsedTime / 1000;
    observeHttp(req.method, route, status, seconds);
    log.info(
      { requestId: req.id, method: req.method, url: req.url, status, ms: reply.elapsedTime },
      'request completed',
    );
    done();
  });
  // Nest routes Fastify's own errors (body parsing, limits) and unknown routes through the global filter.
  app.useGlobalFilters(new ProblemFilter(limits));
  app.useGlobalPipes(new DtoValidationPipe());
}

function routeOf(req: FastifyRequest): string {
  return req.routeOptions?.url ?? 'unmatched';
}
