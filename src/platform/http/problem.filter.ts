// Renders anything thrown from an HTTP handler as an RFC 9457 problem; unexpected errors are logged, never shown.
import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createLogger } from '../logging/logger.js';
import { requestContext } from '../logging/request-context.js';
import { failSpan } from '../tracing/tracing.js';
import { recordAnswer, requestSpan } from './answers.js';
import { problemFrom } from './problem.js';
import { securityHeaders } from './security-headers.js';

const log = createLogger('http');

export function sendProblem(
  err: unknown,
  req: FastifyRequest,
  reply: FastifyReply,
  limits: { bodyLimit: number },
): void {
  const { problem, headers } = problemFrom(err, limits);
  if (problem.status >= 500) log.error({ err }, 'unhandled error');
  problem.instance = req.url.split('?')[0];
  problem.requestId = String(req.id);
  const span = requestSpan(req.raw);
  if (span) failSpan(span, problem.code ?? String(problem.status), problem.status >= 500, problem.detail);
  if (headers) reply.headers(headers);
  securityHeaders(reply.header('x-request-id', problem.requestId));
  void reply.status(problem.status).header('content-type', 'application/problem+json').send(problem);
  // Inside a handler (its request context is current) the route wrapper records the answer once the handler is done.
  if (requestContext.getStore() === undefined) recordAnswer(req, reply);
}

@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(private readonly limits: { bodyLimit: number }) {}

  catch(err: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw err;
    const http = host.switchToHttp();
    sendProblem(err, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>(), this.limits);
  }
}
