// Operations on every role: health, readiness during shutdown, /about, /metrics, /docs, graceful exit.
import request from 'supertest';
import { Topology, TOPOLOGIES } from '../harness/topology.js';
import { waitFor } from '../harness/wait-for.js';

describe.each(TOPOLOGIES)('operations, %s topology', (kind) => {
  let topo: Topology;

  beforeAll(async () => {
    topo = await Topology.startKind(kind, ['exchange', 'generator'], {
      env: { SHUTDOWN_DRAIN_DELAY_MS: '1500' },
    });
  });
  afterAll(() => topo?.stop());

  it('answers liveness and readiness on every process', async () => {
    for (const p of topo.processes.values()) {
      await request(p.url).get('/health/live').expect(200);
      const ready = await request(p.url).get('/health/ready').expect(200);
      expect(ready.body.status).toBe('ok');
    }
  });

  it('checks the peers a role needs in its readiness', async () => {
    const ready = await request(topo.host('generator').url).get('/health/ready').expect(200);
    const keys = Object.keys(ready.body.details);
    if (kind === 'multi') expect(keys).toContain('peer:exchange');
    else expect(keys).not.toContain('peer:exchange');
  });

  it('describes itself on /about', async () => {
    const about = (await request(topo.host('generator').url).get('/about').expect(200)).body;
    expect(about.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(about.modules).toContain('generator');
    if (kind === 'multi') {
      expect(about.role).toBe('generator');
      expect(about.patterns).toEqual([]);
      expect(about.peers).toEqual([
        expect.objectContaining({
          role: 'exchange',
          up: true,
          connections: [expect.objectContaining({ state: 'up' })],
        }),
      ]);
    } else {
      expect(about.modules).toEqual(expect.arrayContaining(['exchange', 'generator']));
      expect(about.patterns).toEqual(expect.arrayContaining(['exchange.convert', 'exchange.rates']));
      expect(about.peers).toEqual([]);
    }
    const exchangeAbout = (await request(topo.host('exchange').url).get('/about').expect(200)).body;
    expect(exchangeAbout.patterns).toEqual(expect.arrayContaining(['exchange.convert']));
  });

  it('exposes HTTP and RPC latency histograms on /metrics', async () => {
    await request(topo.host('generator').url).get('/generator/random').expect(200);
    const gen = (await request(topo.host('generator').url).get('/metrics').expect(200)).text;
    expect(gen).toMatch(
      /http_request_duration_seconds_count\{[^}]*method="GET",route="\/generator\/random",status="200",outcome="ok"\} [1-9]/,
    );
    const transport = kind === 'multi' ? 'tcp' : 'local';
    expect(gen).toMatch(
      new RegExp(
        `rpc_call_duration_seconds_count\\{[^}]*pattern="exchange.convert",side="client",transport="${transport}",outcome="ok"\\} [1-9]`,
      ),
    );
    const exch = (await request(topo.host('exchange').url).get('/metrics').expect(200)).text;
    expect(exch).toMatch(
      new RegExp(
        `rpc_call_duration_seconds_count\\{[^}]*pattern="exchange.convert",side="server",transport="${transport}",outcome="ok"\\} [1-9]`,
      ),
    );
  });

  it('serves OpenAPI docs', async () => {
    const doc = (await request(topo.host('exchange').url).get('/docs-json').expect(200)).body;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/exchange', '/exchange/rates', '/health/ready']),
    );
    await request(topo.host('exchange').url).get('/docs').expect(200);
  });

  it('turns readiness false as soon as shutdown starts, then exits 0 logging each closed resource', async () => {
    const p = topo.host('exchange');
    p.signal('SIGTERM');
    await waitFor(
      async () => (await fetch(`${p.url}/health/ready`)).status === 503,
      'readiness to turn false',
      { limitMs: 1000, everyMs: 50 },
    );
    expect(await p.wait()).toBe(0);
    const msgs = p.logs().map((l) => l.msg);
    expect(msgs).toEqual(
      expect.arrayContaining([
        'shutdown started',
        `closed http listener :${p.httpPort}`,
        `closed tcp listener :${p.tcpPort}`,
        'shutdown complete',
      ]),
    );
    const rest = [...topo.processes.values()].filter((x) => x !== p);
    for (const other of rest) {
      expect(await other.stop()).toBe(0);
      expect(other.logs().map((l) => l.msg)).toContain(`closed rpc client exchange 127.0.0.1:${p.tcpPort}`);
    }
  });
});
