// An idle role gives the heap it grew under load back to the system (HEAP_TRIM_IDLE_MS): real processes, loaded by
// wrk, their resident memory read from /proc.
import { setTimeout as sleep } from 'node:timers/promises';
import { cleanUpLoad, httpLoad, rssMb as rssMbOf } from '../../bench/lib.js';
import { Topology, type RoleProcess } from '../harness/topology.js';

const rssMb = (p: RoleProcess) => rssMbOf(p.child!.pid!);

describe('idle heap trim', () => {
  let topo: Topology;

  beforeAll(async () => {
    topo = await Topology.start([
      { name: 'trimmed', role: 'exchange', env: { HEAP_TRIM_IDLE_MS: '1000' } },
      { name: 'never', role: 'exchange', env: { HEAP_TRIM_IDLE_MS: '0' } },
    ]);
  });
  afterAll(async () => {
    await topo?.stop();
    cleanUpLoad();
  });

  const load = (p: RoleProcess) =>
    httpLoad({
      port: p.httpPort,
      method: 'POST',
      path: '/exchange',
      body: '{"amount":2500.5,"from":"CAD","to":"USD"}',
      connections: 32,
      seconds: 2,
    });

  it('a role idle for HEAP_TRIM_IDLE_MS after a load gives its grown heap back, once, in one log line', async () => {
    const trimmed = topo.get('trimmed');
    await load(trimmed);
    const loaded = rssMb(trimmed);
    const line = await trimmed.waitForLog((l) => l.msg === 'idle: heap trimmed', 10_000);
    const { rssMb: rss, heapMb: heap } = line as unknown as { rssMb: number[]; heapMb: number[] };
    expect(heap[1]).toBeLessThan(heap[0] / 2);
    expect(rss[1]).toBeLessThan(rss[0]);
    expect(rssMb(trimmed)).toBeLessThan(loaded - 50);
    await sleep(2500);
    expect(trimmed.logs().filter((l) => l.msg === 'idle: heap trimmed')).toHaveLength(1);
    // Still serving as before.
    const res = await fetch(`${trimmed.url}/exchange`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"amount":100,"from":"EUR","to":"USD"}',
    });
    expect(res.status).toBe(200);
  });

  it('HEAP_TRIM_IDLE_MS=0 keeps what the load grew', async () => {
    const never = topo.get('never');
    await load(never);
    const loaded = rssMb(never);
    await sleep(3000);
    expect(never.logs().filter((l) => l.msg === 'idle: heap trimmed')).toEqual([]);
    expect(rssMb(never)).toBeGreaterThan(loaded - 20);
  });
});
