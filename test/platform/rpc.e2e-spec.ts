// Cross-role calls between real processes: fail fast while the peer is down, recover by themselves, time out a
// peer that never answers, run over TLS, and refuse oversized messages.
import { execFileSync } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import request from 'supertest';
import { testClientTls, Topology } from '../harness/topology.js';
import { freePort } from '../harness/ports.js';
import { ensureCommand } from '../harness/tools.js';
import { TcpConnection } from '../../src/platform/transport/tcp-connection.js';
import { waitFor } from '../harness/wait-for.js';
import { tempDir } from '../harness/temp-dir.js';

describe('calls from generator to exchange as separate processes', () => {
  let topo: Topology;
  beforeAll(async () => {
    topo = await Topology.start([
      { role: 'exchange' },
      { role: 'generator', env: { RPC_TIMEOUT_MS: '3000' } },
    ]);
  });
  afterAll(() => topo?.stop());

  it('answers 503 while the exchange is down, and recovers without a restart when it returns', async () => {
    const gen = topo.get('generator');
    await request(gen.url).get('/generator/random').expect(200);
    await topo.get('exchange').kill();
    const down = await request(gen.url).get('/generator/random');
    expect(down.status).toBe(503);
    expect(down.headers['content-type']).toMatch(/problem\+json/);
    expect(down.body.detail).toMatch(/unavailable/);
    const ready = await request(gen.url).get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.error).toHaveProperty('peer:exchange');

    await topo.get('exchange').restart();
    await waitFor(
      async () => (await request(gen.url).get('/generator/random')).status === 200,
      'the generator to reach the restarted exchange',
      { everyMs: 100 },
    );
    expect(gen.exitCode).toBeNull();
  });
});

describe('a peer that accepts connections but never answers', () => {
  let blackhole: Server;
  const sockets: Socket[] = [];
  afterAll(() => {
    sockets.forEach((s) => s.destroy());
    blackhole?.close();
  });

  it('gets a 504 problem after RPC_TIMEOUT_MS instead of a hang', async () => {
    const port = await freePort();
    blackhole = createServer((s) => sockets.push(s)).listen(port, '127.0.0.1');
    const topo = await Topology.start([
      {
        role: 'generator',
        waitFor: 'live',
        // A plain-TCP peer: under TLS the call would stall in the handshake instead, which is not this case.
        env: { EXCHANGE_ADDR: `127.0.0.1:${port}`, RPC_TIMEOUT_MS: '300', RPC_TLS: 'false' },
      },
    ]);
    try {
      const res = await request(topo.get('generator').url).get('/generator/random');
      expect(res.status).toBe(504);
      expect(res.body.detail).toMatch(/timed out after/);
    } finally {
      expect(await topo.stop()).toEqual({ generator: 0 });
    }
  });
});

describe('TLS and message limits on the TCP transport', () => {
  it('carries calls over TLS when both roles are configured for it', async () => {
    await ensureCommand('openssl', 'openssl');
    const dir = tempDir('tls');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=polyrole',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const tls = {
      RPC_TLS: 'true',
      RPC_TLS_CERT: join(dir, 'cert.pem'),
      RPC_TLS_KEY: join(dir, 'key.pem'),
      RPC_TLS_CA: join(dir, 'cert.pem'),
    };
    const topo = await Topology.start([{ role: 'exchange' }, { role: 'generator' }], { env: tls });
    try {
      await request(topo.get('generator').url).get('/generator/random').expect(200);
      // A plain-TCP client cannot talk to the TLS listener.
      const plain = await Topology.start([
        {
          role: 'generator',
          name: 'plain',
          waitFor: 'live',
          env: { EXCHANGE_ADDR: `127.0.0.1:${topo.get('exchange').tcpPort}`, RPC_TIMEOUT_MS: '500' },
        },
      ]);
      try {
        // The TLS listener hangs up on the plain handshake, so the call fails as an unavailable peer.
        const res = await request(plain.get('plain').url).get('/generator/random');
        expect([res.status, res.body.code]).toEqual([503, 'peer_unavailable']);
      } finally {
        await plain.stop();
      }
    } finally {
      await topo.stop();
    }
  });
});

describe('the maximum RPC message size', () => {
  it('refuses to send an oversized request, and the listener drops a peer that sends one anyway', async () => {
    const topo = await Topology.start([{ role: 'exchange', env: { RPC_MAX_MESSAGE_BYTES: '4096' } }]);
    try {
      const port = topo.get('exchange').tcpPort;
      const big = { amount: 1, from: 'EUR', to: 'USD', pad: 'x'.repeat(10_000) };
      const tls = testClientTls('generator');

      const strict = new TcpConnection({ host: '127.0.0.1', port, maxMessageChars: 4096, tls });
      strict.start();
      await expect(strict.send('exchange.convert', big, {}, 2000)).rejects.toMatchObject({
        status: 413,
        code: 'message_too_large',
      });
      await strict.close();

      const lax = new TcpConnection({ host: '127.0.0.1', port, maxMessageChars: 1_000_000, tls });
      lax.start();
      await expect(lax.send('exchange.convert', big, {}, 2000)).rejects.toMatchObject({
        code: 'peer_unavailable',
      });
      await lax.close();

      // The listener itself carries on.
      await request(topo.get('exchange').url).get('/exchange/rates').expect(200);
      const ok = new TcpConnection({ host: '127.0.0.1', port, maxMessageChars: 4096, tls });
      ok.start();
      await expect(
        ok.send('exchange.convert', { amount: 1, from: 'EUR', to: 'USD' }, {}, 2000),
      ).resolves.toMatchObject({ result: 1.06 });
      await ok.close();
    } finally {
      await topo.stop();
    }
  });
});
