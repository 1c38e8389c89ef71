import { resolveSettings } from '../../platform/config/settings.js';
import { platformSettings } from '../../platform/platform.settings.js';
import { masterSettings } from './master.settings.js';
import { advertiseAddrOf, childBaseEnv } from './master.module.js';

const settings = (env: Record<string, string>) => ({
  master: resolveSettings(masterSettings, { env, configDir: '/nonexistent-config' }),
  platform: resolveSettings(platformSettings, { env, configDir: '/nonexistent-config' }),
});

describe('advertiseAddrOf', () => {
  it("points local children at this master's TCP port on loopback", () => {
    const s = settings({ TCP_PORT: '4555' });
    expect(advertiseAddrOf(s.master, s.platform)).toEqual({ host: '127.0.0.1', port: 4555 });
  });

  it('keeps a TCP host the master is bound to', () => {
    const s = settings({ TCP_HOST: '10.1.2.3', TCP_PORT: '4555' });
    expect(advertiseAddrOf(s.master, s.platform)).toEqual({ host: '10.1.2.3', port: 4555 });
  });

  it('points containers at the master by its service name', () => {
    const s = settings({ MASTER_SPAWNER: 'docker', MASTER_NAME: 'master-a' });
    expect(advertiseAddrOf(s.master, s.platform)).toEqual({ host: 'master-a', port: 4000 });
  });

  it('lets MASTER_ADVERTISE_ADDR override both', () => {
    const s = settings({ MASTER_ADVERTISE_ADDR: 'mc.example:4100', MASTER_SPAWNER: 'kubernetes' });
    expect(advertiseAddrOf(s.master, s.platform)).toEqual({ host: 'mc.example', port: 4100 });
  });
});

describe('childBaseEnv', () => {
  const mutual = {
    RPC_TLS: 'mutual',
    RPC_TLS_CA: '/tls/ca.pem',
    RPC_TLS_CERT: '/tls/master.pem',
    RPC_TLS_KEY: '/tls/master-key.pem',
  };

  it("hands a child the child certificate under mutual TLS, never the master's own", () => {
    const s = settings({
      ...mutual,
      MASTER_CHILD_TLS_CERT: '/tls/child.pem',
      MASTER_CHILD_TLS_KEY: '/tls/child-key.pem',
    });
    expect(childBaseEnv(s.platform, s.master)).toMatchObject({
      RPC_TLS: 'mutual',
      RPC_TLS_CA: '/tls/ca.pem',
      RPC_TLS_CERT: '/tls/child.pem',
      RPC_TLS_KEY: '/tls/child-key.pem',
    });
  });

  it('refuses to start children under mutual TLS without a child certificate', () => {
    const s = settings(mutual);
    expect(() => childBaseEnv(s.platform, s.master)).toThrow(
      /MASTER_CHILD_TLS_CERT and MASTER_CHILD_TLS_KEY/,
    );
  });

  it('passes the plain TLS settings through unchanged with RPC_TLS=true', () => {
    const s = settings({ ...mutual, RPC_TLS: 'true' });
    expect(childBaseEnv(s.platform, s.master)).toMatchObject({
      RPC_TLS: 'true',
      RPC_TLS_CERT: '/tls/master.pem',
    });
  });
});
