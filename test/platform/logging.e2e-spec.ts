// What an operator gets from the logs: JSON lines off the hot path, access lines by a setting, nothing lost at
// exit, and readable lines on a development terminal.
import { spawn } from 'node:child_process';
import request from 'supertest';
import { freePort } from '../harness/ports.js';
import { MAIN, ROOT, Topology } from '../harness/topology.js';
import { waitFor } from '../harness/wait-for.js';

const CONVERSION = { amount: 100, from: 'EUR', to: 'USD' };
const REQUESTS = 300;

/** Runs ROLE=exchange on a pseudo-terminal (util-linux `script`) until it logs ready; returns what the terminal got. */
async function onTerminal(env: Record<string, string>, ready: RegExp): Promise<string> {
  const [http, tcp] = [await freePort(), await freePort()];
  const vars = {
    ROLE: 'exchange',
    HTTP_HOST: '127.0.0.1',
    TCP_HOST: '127.0.0.1',
    HTTP_PORT: `${http}`,
    ...env,
  };
  const command = `env ${Object.entries(vars)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')} TCP_PORT=${tcp} ${process.execPath} ${MAIN}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', TERM: 'xterm' },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
  try {
    await waitFor(() => ready.test(out), 'the ready line on the terminal', 30_000);
    return out;
  } finally {
    process.kill(-child.pid!, 'SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

describe('logs', () => {
  let topo: Topology;

  beforeAll(async () => {
    topo = await Topology.start([
      { name: 'shipped', role: 'exchange' },
      { name: 'access', role: 'exchange', env: { LOG_ACCESS: 'true' } },
    ]);
  });
  afterAll(() => topo?.stop());

  it('keep one access line per request with LOG_ACCESS=true, none lost when the process exits at once', async () => {
    const access = topo.get('access');
    const ids = Array.from({ length: REQUESTS }, (_, i) => `log-e2e-${i}`);
    for (let i = 0; i < ids.length; i += 50) {
      await Promise.all(
        ids
          .slice(i, i + 50)
          .map((id) =>
            request(access.url).post('/exchange').set('x-request-id', id).send(CONVERSION).expect(200),
          ),
      );
    }
    expect(await access.stop()).toBe(0);
    const lines = access.logs().filter((l) => l.msg === 'request completed' && l.url === '/exchange');
    expect(lines.map((l) => l.requestId).sort()).toEqual([...ids].sort());
    expect(lines[0]).toMatchObject({ role: 'exchange', method: 'POST', url: '/exchange', status: 200 });
    expect(access.logs().at(-1)).toMatchObject({ msg: 'shutdown complete', role: 'exchange' });
  });

  it('write no line per request at the shipped defaults, and still every other line as JSON', async () => {
    const shipped = topo.get('shipped');
    for (let i = 0; i < 20; i++) await request(shipped.url).post('/exchange').send(CONVERSION).expect(200);
    expect(await shipped.stop()).toBe(0);
    const logs = shipped.logs();
    expect(logs.filter((l) => l.msg === 'request completed')).toEqual([]);
    expect(logs.find((l) => l.msg === 'ready')).toMatchObject({ role: 'exchange', level: 'info' });
    expect(logs.at(-1)).toMatchObject({ msg: 'shutdown complete' });
  });

  it('are human-readable on a terminal in development', async () => {
    const out = await onTerminal({ NODE_ENV: 'development' }, /exchange boot: ready/);
    expect(out).toMatch(/INFO.*exchange boot: ready/);
    expect(out).not.toContain('{"level"');
  }, 60_000);

  it('stay JSON on a terminal in production', async () => {
    const out = await onTerminal({ NODE_ENV: 'production', RPC_INSECURE_PLAINTEXT: 'true' }, /"msg":"ready"/);
    expect(out).toMatch(/\{"level":"info".*"role":"exchange".*"msg":"ready"\}/);
  }, 60_000);
});
