// A small HTTP client over node:http for the Docker Engine API: a unix socket or a plain-HTTP base URL, JSON in
// and out, and long-lived streams (wait, logs) that resolve once the response headers arrive.
import http, { type IncomingMessage } from 'node:http';

export interface HttpEndpoint {
  /** A unix socket (Docker's default). */
  socketPath?: string;
  /** http://host:port, when not on a socket. */
  baseUrl?: string;
}

export interface HttpCall {
  method: string;
  path: string;
  headers?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
  /** Whole-request limit for plain calls; streams are not limited. Default 30 s. */
  timeoutMs?: number;
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

/** Where a call could not reach the server (not an HTTP error answer). */
export class HttpConnectionError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpConnectionError';
  }
}

/** DOCKER_HOST (unix:///path, tcp://host:port or http://host:port) as an endpoint. */
export function dockerEndpoint(dockerHost: string): HttpEndpoint {
  const u = new URL(dockerHost);
  if (u.protocol === 'unix:') return { socketPath: decodeURIComponent(u.pathname) };
  if (u.protocol === 'tcp:' || u.protocol === 'http:') return { baseUrl: `http://${u.host}` };
  throw new Error(`unsupported DOCKER_HOST ${dockerHost} (use unix:// or tcp://)`);
}

export function describeEndpoint(e: HttpEndpoint): string {
  return e.socketPath ? `unix://${e.socketPath}` : (e.baseUrl ?? '?');
}

function open(
  endpoint: HttpEndpoint,
  call: HttpCall,
): { req: http.ClientRequest; response: Promise<IncomingMessage> } {
  const payload = call.body === undefined ? undefined : Buffer.from(JSON.stringify(call.body));
  const headers: Record<string, string> = {
    accept: 'application/json',
    ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
    ...call.headers,
  };
  let req: http.ClientRequest;
  if (endpoint.socketPath) {
    req = http.request({
      socketPath: endpoint.socketPath,
      path: call.path,
      method: call.method,
      headers: { host: 'docker', ...headers },
    });
  } else {
    const base = new URL(endpoint.baseUrl ?? '');
    req = http.request({
      hostname: base.hostname.replace(/^\[|\]$/g, ''),
      port: base.port,
      path: call.path,
      method: call.method,
      headers,
    });
  }
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new HttpConnectionError(
          err.code ?? 'ERR',
          `${call.method} ${call.path} on ${describeEndpoint(endpoint)} failed: ${err.message}`,
        ),
      ),
    );
  });
  req.end(payload);
  return { req, response };
}

/** A plain call: the whole answer, whatever its status. Rejects only when the server could not be reached. */
export async function httpRequest(endpoint: HttpEndpoint, call: HttpCall): Promise<HttpResult> {
  const { req, response } = open(endpoint, call);
  const timeoutMs = call.timeoutMs ?? 30_000;
  const timer = setTimeout(
    () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })),
    timeoutMs,
  );
  try {
    const res = await response;
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.statusCode ?? 0, headers: res.headers, text, json };
  } catch (err) {
    if (err instanceof HttpConnectionError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new HttpConnectionError(
      e.code ?? 'ERR',
      `${call.method} ${call.path} on ${describeEndpoint(endpoint)} failed: ${e.message}`,
    );
  } finally {
    clearTimeout(timer);
  }
}

export interface HttpStream {
  status: number;
  response: IncomingMessage;
  /** Ends the stream from this side. */
  close(): void;
}

/** A long-lived call: resolves with the response as soon as its headers arrive. */
export async function httpStream(endpoint: HttpEndpoint, call: HttpCall): Promise<HttpStream> {
  const { req, response } = open(endpoint, call);
  const res = await response;
  // Closing from this side aborts the response; whoever reads it sees the end, nobody needs the error event.
  res.on('error', () => {});
  return { status: res.statusCode ?? 0, response: res, close: () => req.destroy() };
}

/** Reads a whole stream as text (the body of an error answer on a stream call). */
export async function readAll(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
