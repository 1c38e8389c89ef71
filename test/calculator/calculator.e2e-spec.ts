// Calculator (seed 002) end to end, the same assertions in both topologies: every vector through gRPC (a client
// generated from the shipped proto) and HTTP, the calculator.* patterns over Nest TCP, gRPC health and reflection,
// the event log, the watched-address reactors and the runningTotal across a restart.
import type { TcpConnection } from '../../src/platform/transport/tcp-connection.js';
import { factorialVectors, summationVectors } from './calculator.vectors.js';
import { freePort } from '../harness/ports.js';
import { readEvents } from '../harness/sse.js';
import { MUTUAL_TLS, testClientTls, Topology, TOPOLOGIES, type RoleProcess } from '../harness/topology.js';
import {
  getJson,
  grpcCall,
  grpcHealth,
  grpcReflect,
  mathHelperClient,
  postJson,
  type HttpAnswer,
  rpcConnection,
  webhookReceiver,
  type MathHelperClient,
} from './calculator.clients.js';
import { eventsOf, statusOf } from './calculator.fixtures.js';
import { waitFor } from '../harness/wait-for.js';

/**
 * Under TEST_RPC_TLS=mutual the Nest TCP door is closed to every caller: the role table names no role that calls
 * the calculator. The suite then checks the refusal instead of the calls through that door.
 */
const rpcDoorOpen = !MUTUAL_TLS;

const watched = { host: '127.0.0.2', block: '192.0.2.0/24', blockMember: '192.0.2.7' };

describe.each(TOPOLOGIES)('calculator, %s topology', (kind) => {
  let topo: Topology;
  let calc: RoleProcess;
  let grpcPort: number;
  let client: MathHelperClient;
  let rpc: TcpConnection;
  let hook: Awaited<ReturnType<typeof webhookReceiver>>;

  beforeAll(async () => {
    grpcPort = await freePort();
    // The first delivery fails, so every notification proves a retry.
    hook = await webhookReceiver([500, 200]);
    topo = await Topology.startKind(kind, ['calculator'], {
      env: {
        GRPC_HOST: '127.0.0.1',
        GRPC_PORT: String(grpcPort),
        CALCULATOR_WATCH_IPS: `${watched.host},${watched.block}`,
        CALCULATOR_WEBHOOK_URL: hook.url,
      },
    });
    calc = topo.host('calculator');
    client = mathHelperClient(grpcPort);
    rpc = rpcConnection(calc.tcpPort, testClientTls('transaction'));
  });
  afterAll(async () => {
    client?.close();
    await rpc?.close();
    await topo?.stop();
    await hook?.close();
  });

  describe('gRPC MathHelper', () => {
    it.each(summationVectors)('Summation: $name', async ({ first, last, result, error }) => {
      const { err, res } = await grpcCall(client, 'Summation', { first, last });
      if (error) expect(err?.code).toBe(statusOf(error));
      else expect({ err, res }).toEqual({ err: null, res: { result, first, last } });
    });

    it.each(factorialVectors)('Factorial: $name', async ({ base, result, error }) => {
      const { err, res } = await grpcCall(client, 'Factorial', { base });
      if (error) expect(err?.code).toBe(statusOf(error));
      else expect({ err, res }).toEqual({ err: null, res: { result, base } });
    });

    it('reports SERVING on grpc.health.v1.Health, overall and for MathHelper', async () => {
      expect(await grpcHealth(grpcPort)).toBe('SERVING');
      expect(await grpcHealth(grpcPort, 'MathHelper')).toBe('SERVING');
    });

    it('lists and describes MathHelper through server reflection', async () => {
      const listed = await grpcReflect(grpcPort, { list_services: '*' });
      expect(listed.list_services_response.service.map((s: { name: string }) => s.name)).toEqual(
        expect.arrayContaining(['MathHelper', 'grpc.health.v1.Health']),
      );
      const described = await grpcReflect(grpcPort, { file_containing_symbol: 'MathHelper' });
      const text = Buffer.concat(described.file_descriptor_response.file_descriptor_proto).toString('latin1');
      expect(text).toContain('SummationInput');
    });
  });

  describe('HTTP', () => {
    const httpStatus = { OUT_OF_RANGE: 422, INVALID_ARGUMENT: 400 } as const;
    /** The answer is that HTTP status, as a problem document carrying the same status and the gRPC code. */
    const expectProblem = (res: HttpAnswer, status: number, code: string) => {
      expect(res.status).toBe(status);
      expect(res.contentType).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ status, code });
    };

    it.each(summationVectors)('POST /calculator/summation: $name', async ({ first, last, result, error }) => {
      const res = await postJson(calc.url, '/calculator/summation', { first, last });
      if (error) expectProblem(res, httpStatus[error], error);
      else expect(res).toMatchObject({ status: 200, body: { result, first, last } });
    });

    it.each(factorialVectors)('POST /calculator/factorial: $name', async ({ base, result, error }) => {
      const res = await postJson(calc.url, '/calculator/factorial', { base });
      if (error) expectProblem(res, httpStatus[error], error);
      else expect(res).toMatchObject({ status: 200, body: { result, base } });
    });

    it('accepts safe integers as JSON numbers and answers 64-bit values as strings', async () => {
      const res = await postJson(calc.url, '/calculator/summation', { first: 9007199254740991, last: 1 });
      expect(res).toMatchObject({
        status: 200,
        body: { result: '9007199254740992', first: '9007199254740991' },
      });
    });

    it.each([
      ['an unsafe JSON number', '{"first": 9223372036854775807, "last": 1}'],
      ['a fraction', '{"first": 1.5, "last": 1}'],
      ['a value beyond int64', '{"first": "9223372036854775808", "last": 1}'],
      ['a missing field', '{"first": 1}'],
      ['a client IP smuggled in', '{"first": 1, "last": 1, "clientIp": "10.0.0.1"}'],
      ['malformed JSON', '{"first": 1,'],
    ])('rejects %s with a 400 problem', async (_name, body) => {
      const res = await postJson(calc.url, '/calculator/summation', body);
      expect(res.status).toBe(400);
      expect(res.contentType).toMatch(/application\/problem\+json/);
    });
  });

  describe('calculator.* patterns over Nest TCP', () => {
    if (!rpcDoorOpen) {
      it('refuses them under mutual TLS with caller_not_allowed, as the role table names no caller', async () => {
        const err = await rpc.send('calculator.summation', { first: '2', last: 2 }, {}, 5000).catch((e) => e);
        expect(err).toMatchObject({ status: 403, code: 'caller_not_allowed' });
      });
      return;
    }

    it('answers calculator.summation', async () => {
      const res = await rpc.send('calculator.summation', { first: '2', last: 2 }, {}, 5000);
      expect(res).toEqual({ result: '4', first: '2', last: '2' });
    });

    it('fails calculator.factorial out of range with the same typed error as HTTP', async () => {
      const err = await rpc.send('calculator.factorial', { base: '21' }, {}, 5000).catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 422, code: 'OUT_OF_RANGE' });
    });
  });

  describe('event log', () => {
    it('stores each request as CalculationRequested then its outcome, with input, door and client IP', async () => {
      const ids = { http: `${kind}-http-1`, grpc: `${kind}-grpc-1`, rpc: `${kind}-rpc-1` };
      const sent = rpcDoorOpen ? [ids.http, ids.grpc, ids.rpc] : [ids.http, ids.grpc];
      await postJson(calc.url, '/calculator/factorial', { base: 5 }, { requestId: ids.http });
      await grpcCall(client, 'Summation', { first: '250', last: '-250' }, ids.grpc);
      if (rpcDoorOpen)
        await rpc
          .send(
            'calculator.factorial',
            { base: '21', clientIp: '198.51.100.4' },
            { requestId: ids.rpc },
            5000,
          )
          .catch(() => undefined);

      const events = await eventsOf(calc.url, sent);
      const instance = expect.stringMatching(
        kind === 'single' ? /^[\w,-]*calculator[\w,-]*@/ : /^calculator@/,
      );
      const requested = (door: string, method: string, input: object, clientIp: string) => ({
        type: 'CalculationRequested',
        payload: { door, method, input, clientIp, instance, at: expect.any(String) },
        instance,
      });
      expect(events[ids.http]).toMatchObject([
        requested('http', 'factorial', { base: '5' }, '127.0.0.1'),
        { type: 'CalculationCompleted', payload: { method: 'factorial', result: '120' } },
      ]);
      expect(events[ids.grpc]).toMatchObject([
        requested('grpc', 'summation', { first: '250', last: '-250' }, '127.0.0.1'),
        { type: 'CalculationCompleted', payload: { method: 'summation', result: '0' } },
      ]);
      if (rpcDoorOpen)
        expect(events[ids.rpc]).toMatchObject([
          requested('rpc', 'factorial', { base: '21' }, '198.51.100.4'),
          { type: 'CalculationFailed', payload: { method: 'factorial', code: 'OUT_OF_RANGE' } },
        ]);
      const all = Object.values(events).flat();
      for (const e of all) expect(new Date(e.createdAt).toISOString()).toBe(e.createdAt);
      // One global order: http before grpc before rpc, as they were sent.
      const seqs = sent.flatMap((id) => events[id].map((e) => BigInt(e.seq)));
      expect([...seqs].sort((a, b) => (a < b ? -1 : 1))).toEqual(seqs);
    });

    it('pages through the log with after and limit', async () => {
      const seqsOf = (res: { body: { events: Array<{ seq: string }> } }) => res.body.events.map((e) => e.seq);
      const three = await getJson(calc.url, '/calculator/events?limit=3');
      const first = await getJson(calc.url, '/calculator/events?after=0&limit=2');
      const next = await getJson(calc.url, `/calculator/events?after=${first.body.next}&limit=1`);
      expect(seqsOf(three)).toHaveLength(3);
      expect([...seqsOf(first), ...seqsOf(next)]).toEqual(seqsOf(three));
    });

    it.each(['limit=0', 'limit=1001', 'limit=x', 'after=-1', 'after=1e3', 'extra=1'])(
      'rejects GET /calculator/events?%s with a 400 problem',
      async (query) => {
        const res = await getJson(calc.url, `/calculator/events?${query}`);
        expect(res.status).toBe(400);
      },
    );
  });

  describe('watched addresses', () => {
    it('notifies by SSE, webhook (after a retry) and a warn log line, and stores ClientWatched', async () => {
      const sse = readEvents(`${calc.url}/calculator/notifications`);
      await sse.connected;
      const ids = { http: `${kind}-watched-http`, rpc: `${kind}-watched-rpc` };
      const sent = rpcDoorOpen ? [ids.http, ids.rpc] : [ids.http];
      await postJson(
        calc.url,
        '/calculator/factorial',
        { base: 3 },
        { localAddress: watched.host, requestId: ids.http },
      );
      if (rpcDoorOpen)
        await rpc.send(
          'calculator.summation',
          { first: 1, last: 2, clientIp: watched.blockMember },
          { requestId: ids.rpc },
          5000,
        );
      // An unwatched request in between must not notify.
      await postJson(calc.url, '/calculator/factorial', { base: 4 });

      const notices = await sse.take(sent.length);
      sse.close();
      expect(notices).toEqual(
        [
          {
            event: 'ClientWatched',
            data: expect.objectContaining({
              requestId: ids.http,
              clientIp: watched.host,
              rule: watched.host,
              door: 'http',
            }),
          },
          {
            event: 'ClientWatched',
            data: expect.objectContaining({
              requestId: ids.rpc,
              clientIp: watched.blockMember,
              rule: watched.block,
            }),
          },
        ].slice(0, sent.length),
      );

      await waitFor(() => hook.bodies.length >= sent.length, 'a webhook for every watched request');
      expect(hook.bodies.map((b) => b.requestId).sort()).toEqual([...sent].sort());
      expect(hook.calls).toBeGreaterThan(sent.length);

      await calc.waitForLog(
        (l) =>
          l.level === 'warn' && l.msg === 'request from a watched address' && l.requestId === sent.at(-1),
      );
      const events = await eventsOf(calc.url, sent);
      expect(events[ids.http].map((e) => e.type)).toEqual([
        'CalculationRequested',
        'ClientWatched',
        'CalculationCompleted',
      ]);
      if (rpcDoorOpen)
        expect(events[ids.rpc][1].payload).toEqual({
          method: 'summation',
          clientIp: watched.blockMember,
          rule: watched.block,
        });
    });
  });

  describe('runningTotal', () => {
    it('counts what the log holds and is the same after a restart', async () => {
      const before = await getJson(calc.url, '/calculator/stats');
      expect(before.body.runningTotal.summation).toBeGreaterThan(0);
      expect(before.body.runningTotal.factorial).toBeGreaterThan(0);
      expect(before.body.runningTotal.failed).toBeGreaterThan(0);

      await calc.restart();
      const after = await getJson(calc.url, '/calculator/stats');
      expect({ ...after.body, buffer: undefined }).toEqual({ ...before.body, buffer: undefined });

      await postJson(calc.url, '/calculator/factorial', { base: 1 });
      const counted = await getJson(calc.url, '/calculator/stats');
      expect(counted.body.runningTotal).toEqual({
        ...before.body.runningTotal,
        factorial: before.body.runningTotal.factorial + 1,
      });
    });
  });
});
