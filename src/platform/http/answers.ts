// The latency metric and the access line of every HTTP answer, taken without a listener or hook per request.
//
// Fastify attaches its 'finish'/'error' listeners to a response (and runs onResponse hooks from them) only when a
// logger or an onResponse hook asks for it; with neither, a request costs two listeners, their removal, a closure
// and the hook runner's three closures less (pinned runs: 0.74x -> 0.90x of bare Fastify's requests per second). The
// edge records an answer instead where it is handed over: the route wrapper once the handler has sent it, and
// sendProblem() for the answers no handler gives (not found, body errors, the router's own errors, shutdown).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { accessLogEnabled, createLogger } from '../logging/logger.js';
import { observeHttp } from '../metrics/metrics.js';

const log = createLogger('http');

/** When Fastify began routing the request (performance.now()), stamped by markStarted(). */
const STARTED = Symbol('polyrole.http.started');

type Stamped = IncomingMessage & { [STARTED]?: number };

/** Called from genReqId, which Fastify calls first for every request it routes (not found and router errors too). */
export function markStarted(raw: IncomingMessage): void {
  (raw as Stamped)[STARTED] = performance.now();
}

/**
 * Records the answer's latency and status, and its access line with LOG_ACCESS: at once when the response has been
 * ended, otherwise when it closes (a stream, or an answer still to be sent by an error handler).
 */
export function recordAnswer(req: FastifyRequest, reply: FastifyReply): void {
  const res = reply.raw;
  if (res.writableEnded) return record(req, reply);
  res.once('close', () => record(req, reply));
}

function record(req: FastifyRequest, reply: FastifyReply): void {
  const started = (req.raw as Stamped)[STARTED];
  const ms = started === undefined ? 0 : performance.now() - started;
  const status = reply.statusCode;
  observeHttp(req.method, req.routeOptions?.url ?? 'unmatched', status, ms / 1000);
  if (accessLogEnabled()) {
    log.info({ requestId: req.id, method: req.method, url: req.url, status, ms }, 'request completed');
  }
}
