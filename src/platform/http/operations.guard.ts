// Who may use the operations console, the operations endpoints and the operations that start and stop work.
// - The console and the read-only endpoints modules add for it (such as GET /transaction/stats): off in production
//   unless CONSOLE_ENABLED=true; with CONSOLE_TOKEN set, every such route wants that token (OperationsGuard).
// - /about, /metrics, /docs and the operations that change state (starting and stopping children): open outside
//   production as in the originals; in production they want the same token, whether or not the console page is
//   on (OperatorGuard). One credential, the operator's.
// The token comes as `Authorization: Bearer <token>` or as the session cookie the console's sign-in sets (a
// browser's EventSource cannot send headers). The cookie is random, expires, and holds an HMAC under the token of
// its own nonce and expiry, never the token: any replica that knows the token checks it, and a new token ends
// every session.
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { BootContext } from '../boot-context.js';
import { AppError } from '../errors/app-error.js';
import type { PlatformSettings } from '../platform.settings.js';
import { nonJsonRefusal } from './json-only.js';

export const OPERATIONS_COOKIE = 'polyrole_console';
/** The cookie is sent only to the console's own routes. */
export const OPERATIONS_COOKIE_PATH = '/console';

export type OperationsAccess = 'off' | 'open' | 'token';
type Headers = Pick<FastifyRequest, 'headers'>;

export function operationsAccess(p: PlatformSettings): OperationsAccess {
  const enabled = p.consoleEnabled ?? p.nodeEnv !== 'production';
  if (!enabled) return 'off';
  return p.consoleToken ? 'token' : 'open';
}

function sessionMac(token: string, nonce: string, expiresS: number): string {
  return createHmac('sha256', token)
    .update(`polyrole console session|${nonce}|${expiresS}`)
    .digest('base64url');
}

/** A new session cookie value for a browser that showed the token: `<nonce>.<expiry>.<mac>`. */
export function newOperationsSession(
  token: string,
  expiresS: number,
  random: (n: number) => Buffer = randomBytes,
): string {
  const nonce = random(18).toString('base64url');
  return `${nonce}.${expiresS}.${sessionMac(token, nonce, expiresS)}`;
}

/** True for a session value made with this token that has not expired. */
export function validOperationsSession(token: string, value: string, nowS: number): boolean {
  const [nonce, expiry, mac, extra] = value.split('.');
  if (extra !== undefined || !nonce || !mac || !/^\d{1,12}$/.test(expiry ?? '')) return false;
  const expiresS = Number(expiry);
  return expiresS > nowS && same(mac, sessionMac(token, nonce, expiresS));
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function bearer(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}

// One cookie read by name: a cookie library would parse every cookie of every request for this one value.
function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** True when the request carries the operator's token (or a live session cookie for it). */
export function hasOperatorToken(p: PlatformSettings, req: Headers, nowS = Date.now() / 1000): boolean {
  if (!p.consoleToken) return false;
  const token = bearer(req.headers.authorization);
  if (token !== undefined) return same(token, p.consoleToken);
  const session = cookie(req.headers.cookie, OPERATIONS_COOKIE);
  return session !== undefined && validOperationsSession(p.consoleToken, session, nowS);
}

/** True when the request may use the console: 'open' access needs nothing, 'token' the operator's token. */
export function hasOperationsAccess(p: PlatformSettings, req: Headers, nowS?: number): boolean {
  const access = operationsAccess(p);
  if (access === 'open') return true;
  return access === 'token' && hasOperatorToken(p, req, nowS);
}

@Injectable()
export class OperationsGuard implements CanActivate {
  constructor(private readonly boot: BootContext) {}

  canActivate(ctx: ExecutionContext): boolean {
    const p = this.boot.platform;
    if (operationsAccess(p) === 'off')
      throw new AppError(404, 'console_disabled', 'The operations console is off (CONSOLE_ENABLED)');
    if (!hasOperationsAccess(p, ctx.switchToHttp().getRequest<FastifyRequest>()))
      throw new AppError(401, 'console_token_required', 'The operations console needs its token', undefined, {
        'www-authenticate': 'Bearer',
      });
    return true;
  }
}

/** Why an operator-only request is refused, or undefined when it may go on (always, outside production). */
export function operatorRefusal(p: PlatformSettings, req: Headers): AppError | undefined {
  if (p.nodeEnv !== 'production' || hasOperatorToken(p, req)) return undefined;
  return new AppError(
    401,
    'operator_token_required',
    p.consoleToken
      ? 'This needs the operator token (CONSOLE_TOKEN) as Authorization: Bearer'
      : 'This needs the operator token, and this deployment sets no CONSOLE_TOKEN',
    undefined,
    { 'www-authenticate': 'Bearer' },
  );
}

@Injectable()
export class OperatorGuard implements CanActivate {
  constructor(private readonly boot: BootContext) {}

  canActivate(ctx: ExecutionContext): boolean {
    const refused = operatorRefusal(this.boot.platform, ctx.switchToHttp().getRequest<FastifyRequest>());
    if (refused) throw refused;
    return true;
  }
}

/**
 * Why a state-changing request may have come from another site's page, or undefined. A page can send a form or
 * a `no-cors` fetch anywhere without a CORS preflight, with the browser's cookies: such a request is refused if
 * the browser says it crossed sites (Sec-Fetch-Site), its Origin is not this host, or its body is anything but
 * JSON (forms and text/plain are what a page can send without a preflight). Tools (curl, other roles) send none
 * of these headers and pass.
 */
export function crossSiteRefusal(req: Headers): AppError | undefined {
  const h = req.headers;
  const site = h['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none')
    return new AppError(403, 'cross_site_request', `A ${String(site)} request cannot change state here`);
  const origin = h.origin;
  if (origin !== undefined && originHost(origin) !== h.host)
    return new AppError(403, 'cross_site_request', `A request from ${origin} cannot change state here`);
  return nonJsonRefusal(h['content-type']);
}

function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

@Injectable()
export class SameOriginGuard implements CanActivate {
  canActivate(ctx: ExecutionContext): boolean {
    const refused = crossSiteRefusal(ctx.switchToHttp().getRequest<FastifyRequest>());
    if (refused) throw refused;
    return true;
  }
}
