// Who may use the operations console and the read-only operations endpoints modules add for it (such as
// GET /transaction/stats). Off in production unless CONSOLE_ENABLED=true; with CONSOLE_TOKEN set, every such route
// wants that token, as `Authorization: Bearer <token>` or as the session cookie the console's sign-in sets (a
// browser's EventSource cannot send headers). The cookie holds an HMAC of the token, never the token itself.
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { BootContext } from '../boot-context.js';
import { AppError } from '../errors/app-error.js';
import type { PlatformSettings } from '../platform.settings.js';

export const OPERATIONS_COOKIE = 'polyrole_console';

export type OperationsAccess = 'off' | 'open' | 'token';

export function operationsAccess(p: PlatformSettings): OperationsAccess {
  const enabled = p.consoleEnabled ?? p.nodeEnv !== 'production';
  if (!enabled) return 'off';
  return p.consoleToken ? 'token' : 'open';
}

/** The cookie value that proves the browser was given the token. */
export function operationsSessionValue(token: string): string {
  return createHmac('sha256', token).update('polyrole console session').digest('base64url');
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

/** True when the request carries the console token (or its session cookie); 'open' access needs neither. */
export function hasOperationsAccess(p: PlatformSettings, req: Pick<FastifyRequest, 'headers'>): boolean {
  const access = operationsAccess(p);
  if (access === 'open') return true;
  if (access === 'off' || !p.consoleToken) return false;
  const token = bearer(req.headers.authorization);
  if (token !== undefined) return same(token, p.consoleToken);
  const session = cookie(req.headers.cookie, OPERATIONS_COOKIE);
  return session !== undefined && same(session, operationsSessionValue(p.consoleToken));
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
