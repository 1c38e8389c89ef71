// docker-compose.yml run for real as local processes (`npm run compose:local`), and the platform reached the way a
// compose user reaches it: HTTP only through the gateway's one entry port, plus the published echo and gRPC ports.
import { connect } from 'node:net';
import { conversions } from '../fixtures/exchange.js';
import { grpcCall, mathHelperClient, type MathHelperClient } from '../calculator/calculator.clients.js';
import { ComposeLocalRun, OPERATOR_TOKEN } from './compose-local.util.js';

async function json(res: Response): Promise<any> {
  return res.json();
}

function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/** One newline-terminated line to the echo server, and what comes back. */
function echoOnce(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`${line}\n`));
    let got = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      got += chunk;
      if (got.endsWith('\n')) {
        socket.end();
        resolve(got);
      }
    });
    socket.on('error', reject);
  });
}

describe('the compose topology run as local processes', () => {
  let run: ComposeLocalRun;
  let gateway: string;
  let grpc: MathHelperClient;

  beforeAll(async () => {
    run = await ComposeLocalRun.start();
    gateway = run.gatewayUrl;
    grpc = mathHelperClient(run.published('calculator', 50051));
  }, 180_000);

  afterAll(async () => {
    grpc?.close();
    if (run?.exitCode === null) await run.stop();
    run?.cleanUp();
  });

  it('starts every role service of docker-compose.yml, none skipped, each healthy', async () => {
    const { services } = await run.status();

    expect(services.map((s) => s.name).sort()).toEqual([
      'auth',
      'calculator',
      'echo-client',
      'echo-server',
      'exchange',
      'generator',
      'master',
      'psp',
      'transaction',
    ]);
    expect(
      services.filter((s) => s.state !== 'running').map((s) => `${s.name}: ${s.state} ${s.skipped ?? ''}`),
    ).toEqual([]);
    expect(services.filter((s) => s.role !== 'echo-client' && !s.healthy).map((s) => s.name)).toEqual([]);
  });

  it('converts through /exchange on the entry port', async () => {
    const c = conversions.usdToGbp;
    const res = await post(`${gateway}/exchange`, c.request);

    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ ...c.request, result: c.result });
  });

  it('answers /generator with a draw the exchange agrees with', async () => {
    const draw = await json(await fetch(`${gateway}/generator/random`));
    const check = await json(
      await post(`${gateway}/exchange`, { amount: draw.amount, from: draw.from, to: draw.to }),
    );

    expect({ result: draw.result, rate: draw.rate }).toEqual({ result: check.result, rate: check.rate });
  });

  it('calculates through /calculator and stores the request in its event log', async () => {
    const requestId = `compose-local-${Date.now()}`;
    const res = await post(`${gateway}/calculator/factorial`, { base: 5 }, { 'x-request-id': requestId });

    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({ base: '5', result: '120' });
    const deadline = Date.now() + 5000;
    let types: string[] = [];
    while (Date.now() < deadline && types.length < 2) {
      const log = await json(await fetch(`${gateway}/calculator/events?after=0&limit=1000`));
      types = log.events.filter((e: any) => e.requestId === requestId).map((e: any) => e.type);
    }
    expect(types).toEqual(['CalculationRequested', 'CalculationCompleted']);
  });

  it('takes a payment end to end: auth token -> transaction -> completed by the psp', async () => {
    const login = await post(`${gateway}/auth/token`, { username: 'alice', password: 'password' });
    expect(login.status).toBe(200);
    const { token } = await json(login);

    const accepted = await post(
      `${gateway}/transaction/transaction`,
      { amount: 100, currency: 'USD' },
      { authorization: `Bearer ${token}` },
    );
    expect(accepted.status).toBe(200);
    const tx = await json(accepted);
    expect(tx).toMatchObject({ currency: 'USD', user_id: 1, status: 'pending' });

    let status = tx.status;
    const deadline = Date.now() + 15_000;
    while (status !== 'completed' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      const res = await fetch(`${gateway}/transaction/transaction/${tx.id}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      status = (await json(res)).status;
    }
    expect(status).toBe('completed');
    expect(run.logs('psp').map((l) => l.msg)).toContain(
      '==> Making transaction with PSP: User ID: 1, Amount: 100, Currency: USD',
    );
  });

  it('spawns a child through /master (process spawner locally) whose reports show in the progress', async () => {
    const before = await json(await fetch(`${gateway}/master/progress`));
    const created = await post(
      `${gateway}/master/create-child`,
      { count: 500, min: 0, max: 1000 },
      { authorization: `Bearer ${OPERATOR_TOKEN}` },
    );
    expect(created.status).toBe(202);
    const child = await json(created);
    expect(child).toMatchObject({ status: 'starting', count: 500, min: 0, max: 1000 });

    let detail: any = child;
    const deadline = Date.now() + 20_000;
    while (!['succeeded', 'failed'].includes(detail.status) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      detail = await json(await fetch(`${gateway}/master/children/${child.id}`));
    }
    expect(detail).toMatchObject({ status: 'succeeded', exitCode: 0 });
    // This child's own account: it drew 500 and the master took every one of them from it.
    expect(detail.done).toMatchObject({ childId: child.id, numbers: 500, stopped: false });
    expect(detail.reported).toMatchObject({ received: 500, rejected: 0 });
    expect(detail.reported.unique + detail.reported.duplicates).toBe(500);
    // And the progress moved by exactly what this child reported.
    const after = await json(await fetch(`${gateway}/master/progress`));
    expect({
      received: after.received - before.received,
      uniqueNumbers: after.uniqueNumbers - before.uniqueNumbers,
    }).toEqual({ received: 500, uniqueNumbers: detail.reported.unique });
  });

  it('answers gRPC on the published gRPC port', async () => {
    const { err, res } = await grpcCall(grpc, 'Summation', { first: '1', last: '10' });

    expect({ err, res }).toEqual({ err: null, res: { first: '1', last: '10', result: '11' } });
  });

  it('echoes on the published echo port, and the echo-client job is connected to it', async () => {
    expect(await echoOnce(run.published('echo-server', 12345), 'hello compose')).toBe('hello compose\n');
    expect(await run.service('echo-client')).toMatchObject({ state: 'running', restarts: 0 });
  });

  it('answers 404 through the gateway for a path no role is routed at, e.g. a role`s health', async () => {
    expect((await fetch(`${gateway}/health/ready`)).status).toBe(404);
    expect((await fetch(`${gateway}/nowhere`)).status).toBe(404);
  });

  it('stops every service gracefully on SIGTERM: each exits 0, and so does the runner', async () => {
    expect(await run.stop()).toBe(0);
    const codes = run.stoppedCodes ?? {};

    expect(Object.keys(codes)).toEqual(
      expect.arrayContaining([
        'exchange',
        'calculator',
        'echo-client',
        'auth',
        'transaction',
        'psp',
        'master',
      ]),
    );
    expect(Object.fromEntries(Object.entries(codes).filter(([, code]) => code !== 0))).toEqual({});
  });
});
