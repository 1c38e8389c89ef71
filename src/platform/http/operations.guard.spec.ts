import { resolveSettings } from '../config/settings.js';
import { platformSettings, type PlatformSettings } from '../platform.settings.js';
import {
  crossSiteRefusal,
  hasOperationsAccess,
  newOperationsSession,
  OPERATIONS_COOKIE,
  operationsAccess,
  operatorRefusal,
  validOperationsSession,
} from './operations.guard.js';

const token = 'operations-token-0123456789abcdef-0123';
const settings = (p: Partial<PlatformSettings>) => ({ nodeEnv: 'development', ...p }) as PlatformSettings;
const withHeaders = (headers: Record<string, string>) => ({ headers });

describe('operations access', () => {
  it('is open outside production without a token, and off in production unless enabled', () => {
    expect(operationsAccess(settings({}))).toBe('open');
    expect(operationsAccess(settings({ nodeEnv: 'production' }))).toBe('off');
    expect(
      operationsAccess(settings({ nodeEnv: 'production', consoleEnabled: true, consoleToken: token })),
    ).toBe('token');
    expect(operationsAccess(settings({ consoleEnabled: false }))).toBe('off');
  });

  it('wants a token in production once enabled', () => {
    const resolve = (env: Record<string, string>) => () =>
      resolveSettings(platformSettings, { env, configDir: '/nonexistent', deployment: { production: true } });
    expect(resolve({ CONSOLE_ENABLED: 'true' })).toThrow(
      expect.objectContaining({
        problems: ['CONSOLE_TOKEN is required when CONSOLE_ENABLED=true with NODE_ENV=production'],
      }),
    );
    expect(resolve({})).not.toThrow();
    expect(resolve({ CONSOLE_ENABLED: 'true', CONSOLE_TOKEN: token })).not.toThrow();
  });

  it('accepts the bearer token or a live session cookie, and nothing else, when a token is set', () => {
    const p = settings({ consoleToken: token });
    const now = 1_800_000_000;
    expect(hasOperationsAccess(p, withHeaders({ authorization: `Bearer ${token}` }), now)).toBe(true);
    expect(hasOperationsAccess(p, withHeaders({ authorization: `Bearer ${token}x` }), now)).toBe(false);
    expect(hasOperationsAccess(p, withHeaders({}), now)).toBe(false);
    const session = newOperationsSession(token, now + 60);
    const cookie = `other=1; ${OPERATIONS_COOKIE}=${session}`;
    expect(hasOperationsAccess(p, withHeaders({ cookie }), now)).toBe(true);
    expect(hasOperationsAccess(p, withHeaders({ cookie }), now + 60)).toBe(false);
    expect(hasOperationsAccess(p, withHeaders({ cookie: `${OPERATIONS_COOKIE}=${token}` }), now)).toBe(false);
    expect(session).not.toContain(token);
  });
});

describe('console sessions', () => {
  const now = 1_800_000_000;

  it('are random: two sign-ins get different values', () => {
    expect(newOperationsSession(token, now + 60)).not.toBe(newOperationsSession(token, now + 60));
  });

  it('end at their expiry, and a changed expiry, nonce or token breaks the seal', () => {
    const value = newOperationsSession(token, now + 60);
    const [nonce, exp, mac] = value.split('.');
    expect(validOperationsSession(token, value, now + 59)).toBe(true);
    expect(validOperationsSession(token, value, now + 60)).toBe(false);
    expect(validOperationsSession(token, `${nonce}.${Number(exp) + 3600}.${mac}`, now)).toBe(false);
    expect(validOperationsSession(token, `x${nonce}.${exp}.${mac}`, now)).toBe(false);
    expect(validOperationsSession(`${token}-rotated`, value, now)).toBe(false);
    for (const bad of ['', '...', `${value}.x`, `${nonce}.-1.${mac}`])
      expect(validOperationsSession(token, bad, now)).toBe(false);
  });
});

describe('operator-only requests', () => {
  it('are open outside production', () => {
    expect(operatorRefusal(settings({}), withHeaders({}))).toBeUndefined();
  });

  it('want the token in production, whether or not the console page is on', () => {
    const p = settings({ nodeEnv: 'production', consoleToken: token });
    expect(operatorRefusal(p, withHeaders({ authorization: `Bearer ${token}` }))).toBeUndefined();
    expect(operatorRefusal(p, withHeaders({}))).toMatchObject({
      status: 401,
      code: 'operator_token_required',
    });
    expect(operatorRefusal(settings({ nodeEnv: 'production' }), withHeaders({}))).toMatchObject({
      status: 401,
      message: expect.stringContaining('sets no CONSOLE_TOKEN'),
    });
  });
});

describe('cross-site refusal of state changes', () => {
  const host = 'localhost:3000';

  it.each([
    [{ 'sec-fetch-site': 'cross-site' }, 403],
    [{ 'sec-fetch-site': 'same-site' }, 403],
    [{ origin: 'http://evil.example' }, 403],
    [{ origin: 'http://localhost:8080' }, 403],
    [{ origin: 'null' }, 403],
    [{ 'content-type': 'application/x-www-form-urlencoded' }, 415],
    [{ 'content-type': 'text/plain' }, 415],
    [{ 'content-type': 'multipart/form-data; boundary=x' }, 415],
  ])('refuses %o with %d', (headers, status) => {
    expect(crossSiteRefusal(withHeaders({ host, ...headers }))).toMatchObject({ status });
  });

  it.each<Record<string, string>>([
    {},
    { 'content-type': 'application/json' },
    { 'content-type': 'application/json; charset=utf-8', origin: `http://${host}` },
    { 'sec-fetch-site': 'same-origin' },
    { 'sec-fetch-site': 'none' },
  ])('lets %o through', (headers) => {
    expect(crossSiteRefusal(withHeaders({ host, ...headers }))).toBeUndefined();
  });
});
