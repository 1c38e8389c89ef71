// RFC 9457 problem details: the one error shape at the HTTP edge, built from any thrown value.
import { HttpException } from '@nestjs/common';
import { AppError, type FieldProblem } from '../errors/app-error.js';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code?: string;
  errors?: FieldProblem[];
  instance?: string;
  requestId?: string;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** Fastify's own errors (body parsing, limits, media types) mapped to what a client should see. */
const FASTIFY_CODES: Record<string, { status: number; code: string; detail?: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'malformed_json' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'malformed_json', detail: 'Request body is empty' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 400, code: 'body_too_large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'bad_content_length' },
  FST_ERR_BAD_URL: { status: 400, code: 'bad_url' },
};

export function problemFrom(
  thrown: unknown,
  limits: { bodyLimit: number },
): { problem: Problem; headers?: Record<string, string> } {
  // Nest wraps Fastify's own errors (body parsing, limits) in an HttpException; map them by their Fastify code.
  const cause =
    thrown instanceof HttpException ? (thrown.cause as { code?: unknown } | undefined) : undefined;
  const err = typeof cause?.code === 'string' && cause.code.startsWith('FST_') ? cause : thrown;
  if (err instanceof AppError) {
    return {
      problem: make(err.status, err.message, err.code, err.errors),
      headers: err.headers,
    };
  }
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const body = err.getResponse();
    const message =
      typeof body === 'string' ? body : ((body as { message?: unknown }).message ?? err.message);
    return {
      problem: make(status, Array.isArray(message) ? message.join('; ') : String(message), codeFor(status)),
    };
  }
  const e = err as { code?: string; statusCode?: number; message?: string } | undefined;
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { problem: make(400, `Request body is larger than ${limits.bodyLimit} bytes`, 'body_too_large') };
  }
  if (
    e?.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
    (e instanceof SyntaxError && e.message.includes('JSON'))
  ) {
    return { problem: make(400, `Malformed JSON: ${e?.message}`, 'malformed_json') };
  }
  const known = e?.code ? FASTIFY_CODES[e.code] : undefined;
  if (known?.code === 'malformed_json')
    return { problem: make(400, `Malformed JSON: ${e?.message}`, known.code) };
  if (known) return { problem: make(known.status, known.detail ?? String(e?.message), known.code) };
  if (e?.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    return { problem: make(e.statusCode, String(e.message ?? 'Bad request'), codeFor(e.statusCode)) };
  }
  return { problem: make(500, 'Internal error', 'internal') };
}

/** Errors Node's HTTP parser raises before any request exists (Fastify's clientErrorHandler receives them). */
export function clientErrorProblem(err: { code?: string }): Problem {
  if (err.code === 'HPE_HEADER_OVERFLOW')
    return make(431, 'The request line and headers exceed the server limit', 'headers_too_large');
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return make(408, 'The request did not arrive in time', 'request_timeout');
  return make(400, 'Malformed HTTP request', 'bad_request');
}

function codeFor(status: number): string {
  return (TITLES[status] ?? 'error').toLowerCase().replace(/\s+/g, '_');
}

function make(status: number, detail: string, code?: string, errors?: FieldProblem[]): Problem {
  return {
    type: code ? `https://polyrole.dev/problems/${code}` : 'about:blank',
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    ...(code ? { code } : {}),
    ...(errors && errors.length ? { errors } : {}),
  };
}
