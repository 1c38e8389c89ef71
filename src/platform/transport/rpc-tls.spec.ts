import type { PeerCertificate } from 'node:tls';
import { ConfigError, resolveSettings } from '../config/settings.js';
import { platformSettings } from '../platform.settings.js';
import { certificateRoles, clientTlsOptions } from './rpc-tls.js';

const platform = (env: Record<string, string>) =>
  resolveSettings(platformSettings, { env, configDir: '/nonexistent-config' });

const cert = (subjectaltname?: string) => ({ subjectaltname }) as PeerCertificate;

describe(certificateRoles.name, () => {
  it('reads every role a certificate names as spiffe://polyrole/<role>', () => {
    expect(
      certificateRoles(cert('URI:spiffe://polyrole/exchange, URI:spiffe://polyrole/generator, DNS:exchange')),
    ).toEqual(['exchange', 'generator']);
  });

  it('ignores names that are not polyrole URIs, so a CN or DNS name alone grants no role', () => {
    expect(certificateRoles(cert('DNS:transaction, URI:spiffe://other/transaction'))).toEqual([]);
    expect(certificateRoles(cert())).toEqual([]);
  });
});

describe('RPC_TLS', () => {
  it('reads false, true and mutual', () => {
    expect(platform({}).rpcTls).toBe('off');
    expect(platform({ RPC_TLS: 'true' }).rpcTls).toBe('server');
    expect(platform({ RPC_TLS: 'Mutual' }).rpcTls).toBe('mutual');
    expect(() => platform({ RPC_TLS: 'both' })).toThrow(/RPC_TLS: must be false, true or mutual/);
  });

  it('names every missing file under mutual', () => {
    const env = { RPC_TLS: 'mutual', RPC_TLS_CA: '/ca.pem' };
    const resolve = () =>
      resolveSettings(platformSettings, {
        env,
        configDir: '/nonexistent-config',
        deployment: { production: false },
      });
    expect(resolve).toThrow(ConfigError);
    expect(() => resolve()).toThrow(
      expect.objectContaining({
        problems: [
          'RPC_TLS_CERT is required with RPC_TLS=mutual',
          'RPC_TLS_KEY is required with RPC_TLS=mutual',
        ],
      }),
    );
  });

  it('under mutual, accepts a server only when its certificate names the role being dialled', () => {
    const tls = clientTlsOptions(platform({ RPC_TLS: 'mutual' }), 'psp');
    expect(tls!.checkServerIdentity!('127.0.0.1', cert('URI:spiffe://polyrole/psp'))).toBeUndefined();
    expect(tls!.checkServerIdentity!('127.0.0.1', cert('URI:spiffe://polyrole/auth'))).toBeInstanceOf(Error);
  });
});
