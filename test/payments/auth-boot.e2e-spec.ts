// Issue 5: token lifetime (JWT_TTL_S) and the JWT_SECRET policy at boot.
import { sleep, Topology } from '../harness/topology.js';
import { claimsOf, post, tokenOf, users } from './payments.fixtures.js';

describe('auth at boot and over time', () => {
  it('refuses a token once JWT_TTL_S has passed with 401 token_expired', async () => {
    const topo = await Topology.start([
      { role: 'auth,transaction', env: { JWT_TTL_S: '1' }, waitFor: 'live' },
    ]);
    try {
      const p = topo.get('auth,transaction');
      const token = await tokenOf(p.url, users.alice);
      const { iat, exp } = claimsOf(token) as { iat: number; exp: number };
      expect(exp - iat).toBe(1);
      // Past exp by the server's clock (whole seconds), then the token is refused.
      await sleep(Math.max(0, (exp + 1) * 1000 - Date.now()) + 50);
      const res = await post(`${p.url}/transaction/transaction`, { amount: 1, currency: 'USD', token });
      expect([res.status, res.body.code]).toEqual([401, 'token_expired']);
    } finally {
      await topo.stop();
    }
  });

  it('stops the auth role in production without a 32-byte JWT_SECRET; elsewhere a missing one is made up', async () => {
    const production = { NODE_ENV: 'production' };
    // Two databases: the development process seeds the demo users, production must not.
    const [topo, devTopo] = await Promise.all([
      Topology.start([
        { name: 'missing', role: 'auth', env: production, waitFor: 'none' },
        { name: 'short', role: 'auth', env: { ...production, JWT_SECRET: 'too-short' }, waitFor: 'none' },
        { name: 'proper', role: 'auth', env: { ...production, JWT_SECRET: 'x'.repeat(32) } },
      ]),
      Topology.start([{ name: 'development', role: 'auth' }]),
    ]);
    try {
      expect(await topo.get('missing').wait()).toBe(1);
      expect(topo.get('missing').output.join('\n')).toContain(
        'JWT_SECRET is required when NODE_ENV=production (at least 32 bytes)',
      );
      expect(await topo.get('short').wait()).toBe(1);
      expect(topo.get('short').output.join('\n')).toContain('JWT_SECRET is too short: 9 bytes');
      expect(topo.get('short').output.join('\n')).not.toContain('too-short');
      // Production seeds no demo users.
      expect((await post(`${topo.get('proper').url}/auth/token`, users.alice)).status).toBe(401);

      const dev = devTopo.get('development');
      expect(
        dev.logs().some((l) => l.level === 'warn' && String(l.msg).includes('JWT_SECRET is not set')),
      ).toBe(true);
      expect((await post(`${dev.url}/auth/token`, users.alice)).status).toBe(200);
    } finally {
      await Promise.all([topo.stop(), devTopo.stop()]);
    }
  });
});
