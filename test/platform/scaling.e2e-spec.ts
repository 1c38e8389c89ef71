// A scaled role: one peer setting naming two replicas spreads the calls over both.
import request from 'supertest';
import { Topology } from '../harness/topology.js';
import { waitFor } from '../harness/wait-for.js';

describe('two exchange replicas behind one peer setting', () => {
  it('spreads the generator calls over both replicas', async () => {
    const replicas = await Topology.start([
      { name: 'exchange-a', role: 'exchange', env: { LOG_ACCESS: 'true' } },
      { name: 'exchange-b', role: 'exchange', env: { LOG_ACCESS: 'true' } },
    ]);
    const a = replicas.get('exchange-a');
    const b = replicas.get('exchange-b');
    const gen = await Topology.start([
      { role: 'generator', env: { EXCHANGE_ADDR: `127.0.0.1:${a.tcpPort},127.0.0.1:${b.tcpPort}` } },
    ]);
    try {
      for (let i = 0; i < 20; i++)
        await request(gen.get('generator').url).get('/generator/random').expect(200);
      const handled = (p: typeof a) =>
        p.logs().filter((l) => l.msg === 'rpc handled' && l.pattern === 'exchange.convert').length;
      // Log lines leave through an asynchronous destination: wait for all of them, then expect no more.
      await waitFor(() => handled(a) + handled(b) >= 20, 'an access line for every call');
      expect(handled(a) + handled(b)).toBe(20);
      expect(handled(a)).toBeGreaterThanOrEqual(5);
      expect(handled(b)).toBeGreaterThanOrEqual(5);

      // One replica gone: the calls keep flowing to the other.
      await a.kill();
      for (let i = 0; i < 5; i++)
        await request(gen.get('generator').url).get('/generator/random').expect(200);
    } finally {
      await gen.stop();
      await replicas.stop();
    }
  });
});
