import { platformSettings, rpcPlaintextProblem, rpcPlaintextWarning } from './platform.settings.js';
import { resolveSettings } from './config/settings.js';

const resolve = (env: Record<string, string>) =>
  resolveSettings(platformSettings, { env, configDir: '/nonexistent', deployment: { production: false } });

describe('platformSettings', () => {
  it('listens on loopback unless HTTP_HOST / TCP_HOST say otherwise (the image says 0.0.0.0)', () => {
    expect(resolve({})).toMatchObject({ httpHost: '127.0.0.1', tcpHost: '127.0.0.1' });
    expect(resolve({ HTTP_HOST: '0.0.0.0', TCP_HOST: '0.0.0.0' })).toMatchObject({
      httpHost: '0.0.0.0',
      tcpHost: '0.0.0.0',
    });
  });
});

describe(rpcPlaintextProblem.name, () => {
  const production = { nodeEnv: 'production', rpcInsecurePlaintext: false } as const;

  it('refuses Nest TCP without mutual TLS in production, naming the insecure setting', () => {
    for (const rpcTls of ['off', 'server'] as const)
      expect(rpcPlaintextProblem({ ...production, rpcTls }, true)).toMatch(/RPC_INSECURE_PLAINTEXT=true/);
  });

  it('lets mutual TLS, the explicit insecure setting, a role without Nest TCP and development through', () => {
    expect(rpcPlaintextProblem({ ...production, rpcTls: 'mutual' }, true)).toBeUndefined();
    expect(
      rpcPlaintextProblem({ ...production, rpcTls: 'off', rpcInsecurePlaintext: true }, true),
    ).toBeUndefined();
    expect(rpcPlaintextProblem({ ...production, rpcTls: 'off' }, false)).toBeUndefined();
    expect(
      rpcPlaintextProblem({ ...production, rpcTls: 'off', nodeEnv: 'development' }, true),
    ).toBeUndefined();
  });

  it('warns only when the insecure setting is what lets the process start', () => {
    expect(rpcPlaintextWarning({ ...production, rpcTls: 'off', rpcInsecurePlaintext: true }, true)).toMatch(
      /^INSECURE: RPC_INSECURE_PLAINTEXT=true/,
    );
    expect(
      rpcPlaintextWarning({ ...production, rpcTls: 'mutual', rpcInsecurePlaintext: true }, true),
    ).toBeUndefined();
    expect(rpcPlaintextWarning({ ...production, rpcTls: 'off' }, true)).toBeUndefined();
  });
});
