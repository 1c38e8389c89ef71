// The latency metric and the access line of every HTTP answer, taken without a listener or hook per request.
//
// Fastify attaches its 'finish'/'error' listeners to a response (and runs onResponse hooks from them) only when a
// logger or an onResponse hook asks for it; with neither, a request costs two listeners, their removal, a closure
// and the hook runner's three closures less (pinned runs: 0.74x -> 0.90x of bare Fastify's requests per second). The
// edge records an answer instead where it is handed over: the route wrapper once the handler has sent it, and
// sendProblem() for the answers no handler gives (not found, body errors, the router's own errors, shutdown). The
// request's server span starts and ends at the same two places.
import { SpanStatusCode, isSpanContextValid, type Span } from '@opentelemetry/api';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { accessLogEnabled, createLogger } from '../logging/logger.js';
import { observeHttp } from '../metrics/metrics.js';
import { startServerSpan } from '../tracing/tracing.js';

const log = createLogger('http');

/** When Fastify began routing the request (performance.now()), stamped by markStarted(). */
const STARTED = Symbol('polyrole.http.started');
/** The request's server span, started with the stamp; the route wrapper names it after its route. */
const SPAN = Symbol('polyrole.http.span');

/**
 * Reads of the platform's own operations (probes, scrapes, the console and its polling) are not traced: they would
 * crowd every request out of the console's recent traces and a collector's storage, and say nothing about the
 * requests a deployment serves.
 */
const UNTRACED_GET = /^\/(?:health|metrics|spans|about|docs|console)(?:[/?]|$)/;

type Stamped = IncomingMessage & { [STARTED]?: number; [SPAN]?: Span };

/**
 * Called from genReqId, which Fastify calls first for every request it routes (not found and router errors too).
 * The span continues the caller's traceparent when it sent a usable one; a malformed one starts a new trace.
 */
export function markStarted(raw: IncomingMessage): void {
  (raw as Stamped)[STARTED] = performance.now();
  const method = raw.method ?? 'GET';
  if (method === 'GET' && UNTRACED_GET.test(raw.url ?? '/')) return;
  const span = startServerSpan(method, raw.headers);
  if (span.isRecording()) {
    span.setAttribute(ATTR_HTTP_REQUEST_METHOD, method);
    const url = raw.url ?? '/';
    const query = url.indexOf('?');
    span.setAttribute(ATTR_URL_PATH, query < 0 ? url : url.slice(0, query));
  }
  (raw as Stamped)[SPAN] = span;
}

/** The server span of a request (undefined for the operations reads, which are not traced). */
export function requestSpan(raw: IncomingMessage): Span | undefined {
  return (raw as Stamped)[SPAN];
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
  const span = (req.raw as Stamped)[SPAN];
  if (span) {
    (req.raw as Stamped)[SPAN] = undefined;
    if (span.isRecording()) {
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  }
  observeHttp(req.method, req.routeOptions?.url ?? 'unmatched', status, ms / 1000);
  if (accessLogEnabled()) {
    // Written once the handler's context is gone: the trace ids come from the request's span itself.
    const ids = span?.spanContext();
    const traced = ids && isSpanContextValid(ids);
    log.info(
      traced
        ? {
            requestId: req.id,
            method: req.method,
            url: req.url,
            status,
            ms,
            trace_id: ids.traceId,
            span_id: ids.spanId,
          }
        : { requestId: req.id, method: req.method, url: req.url, status, ms },
      'request completed',
    );
  }
}
