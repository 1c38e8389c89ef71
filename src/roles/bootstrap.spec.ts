import { BootError, resolveBoot } from './bootstrap.js';

describe(resolveBoot.name, () => {
  it('stops before anything starts when RPC_TLS=mutual lacks its files, naming each one', async () => {
    const boot = resolveBoot({ ROLE: 'exchange', RPC_TLS: 'mutual', CONFIG_DIR: '/nonexistent-config' });
    await expect(boot).rejects.toBeInstanceOf(BootError);
    await expect(boot).rejects.toThrow(
      /RPC_TLS_CERT is required with RPC_TLS=mutual\n {2}- RPC_TLS_KEY is required with RPC_TLS=mutual\n {2}- RPC_TLS_CA is required/,
    );
  });

  it('accepts RPC_TLS=mutual with all three files named', async () => {
    const { boot } = await resolveBoot({
      ROLE: 'exchange',
      RPC_TLS: 'mutual',
      RPC_TLS_CA: '/tls/ca.pem',
      RPC_TLS_CERT: '/tls/cert.pem',
      RPC_TLS_KEY: '/tls/key.pem',
      CONFIG_DIR: '/nonexistent-config',
    });
    expect(boot.platform.rpcTls).toBe('mutual');
  });
});
