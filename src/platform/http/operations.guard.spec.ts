import { resolveSettings } from '../config/settings.js';
import { platformSettings, type PlatformSettings } from '../platform.settings.js';
import {
  hasOperationsAccess,
  OPERATIONS_COOKIE,
  operationsAccess,
  operationsSessionValue,
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

  it('accepts the bearer token or the session cookie, and nothing else, when a token is set', () => {
    const p = settings({ consoleToken: token });
    expect(hasOperationsAccess(p, withHeaders({ authorization: `Bearer ${token}` }))).toBe(true);
    expect(hasOperationsAccess(p, withHeaders({ authorization: `Bearer ${token}x` }))).toBe(false);
    expect(hasOperationsAccess(p, withHeaders({}))).toBe(false);
    const cookie = `other=1; ${OPERATIONS_COOKIE}=${operationsSessionValue(token)}`;
    expect(hasOperationsAccess(p, withHeaders({ cookie }))).toBe(true);
    expect(hasOperationsAccess(p, withHeaders({ cookie: `${OPERATIONS_COOKIE}=${token}` }))).toBe(false);
    expect(operationsSessionValue(token)).not.toContain(token);
  });
});
