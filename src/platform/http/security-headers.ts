// The security headers of every HTTP answer, and the stricter ones of the pages a browser renders. Constant
// strings, written next to x-request-id by the route wrapper and the problem writer: no per-request allocation.
import type { FastifyReply } from 'fastify';

/**
 * The console page: its own script, stylesheet, icon and calls only, never framed, no plugins, no <base> rewrite,
 * forms post nowhere else.
 */
export const CONSOLE_CSP =
  "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'; form-action 'self'";

/**
 * The Swagger UI under /docs: as strict for scripts, frames, plugins and <base>; its HTML carries an inline
 * <style> block and style attributes, and its stylesheet data: images, which the console's policy would block.
 */
export const DOCS_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'";

/**
 * On every answer: no MIME sniffing of a JSON or text body into a script, no URL leaking to another site through
 * Referer.
 */
export function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply.header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer');
}

/** The same two as header lines, for answers written to the socket before a request exists. */
export const SECURITY_HEAD_LINES = 'X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n';

/** The same two for a response written by hand (a hijacked stream). */
export const SECURITY_HEADERS = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };
