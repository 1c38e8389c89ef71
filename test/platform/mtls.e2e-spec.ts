// RPC_TLS=mutual between real role processes with real certificates: the handshake refuses callers without a
// valid certificate from the deployment's CA, and a server answers a pattern only for the roles the role table
// says call it. Stock Nest ClientTCP clients stand in for callers of each kind.
import { ClientTCP } from '@nestjs/microservices';
import { readFileSync } from 'node:fs';
import { firstValueFrom, timeout } from 'rxjs';
import { makeCa, makeRoleCert, makeRoleCerts, type KeyPair } from '../../src/roles/certs/role-certs.js';
import { ensureCommand } from '../harness/tools.js';
import { Topology, type RoleProcess } from '../harness/topology.js';
import { get, post, secrets, tokenOf, POLL, users } from '../payments/payments.fixtures.js';
import { waitFor } from '../harness/wait-for.js';
import { expectEach } from '../harness/expect-each.js';
import { tempDir } from '../harness/temp-dir.js';

const conversion = { amount: 100, from: 'EUR', to: 'USD' };

describe('mutual TLS between roles', () => {
  let dir: string;
  let certs: ReturnType<typeof makeRoleCerts>;
  let topo: Topology;
  let exchange: RoleProcess;
  let psp: RoleProcess;
  const clients: ClientTCP[] = [];
  /** What each stock client's own logger reported (a refused handshake is an expected error: kept, not printed). */
  const reported = new WeakMap<ClientTCP, unknown[]>();

  /** A stock Nest client dialling a role's TCP port; `pair` is the certificate it presents, if any. */
  function stockClient(target: RoleProcess, pair?: KeyPair, ca = certs.ca.cert): ClientTCP {
    const client = new ClientTCP({
      host: '127.0.0.1',
      port: target.tcpPort,
      tlsOptions: {
        ca: readFileSync(ca),
        ...(pair ? { cert: readFileSync(pair.cert), key: readFileSync(pair.key) } : {}),
        // Role processes are dialled by IP; the role the server names is checked by the project's own client.
        checkServerIdentity: () => undefined,
      },
    });
    const errors: unknown[] = [];
    reported.set(client, errors);
    Object.assign(client, { logger: { error: (err: unknown) => errors.push(err) } });
    clients.push(client);
    return client;
  }

  function call(client: ClientTCP, pattern: string, data: unknown): Promise<unknown> {
    return firstValueFrom(client.send(pattern, data).pipe(timeout(10_000)));
  }

  beforeAll(async () => {
    await ensureCommand('openssl', 'openssl');
    dir = tempDir('mtls-spec');
    certs = makeRoleCerts(dir);
    const tlsOf = (role: string) => ({
      RPC_TLS: 'mutual',
      RPC_TLS_CA: certs.ca.cert,
      RPC_TLS_CERT: certs.roles[role].cert,
      RPC_TLS_KEY: certs.roles[role].key,
    });
    topo = await Topology.start(
      ['exchange', 'auth', 'psp', 'transaction', 'generator', 'master'].map((role) => ({
        role,
        env: tlsOf(role),
      })),
      {
        env: {
          JWT_SECRET: secrets.jwt,
          MASTER_RANGE: '1000',
          MASTER_CHILD_TLS_CERT: certs.roles.child.cert,
          MASTER_CHILD_TLS_KEY: certs.roles.child.key,
        },
      },
    );
    exchange = topo.get('exchange');
    psp = topo.get('psp');
  });
  afterAll(async () => {
    clients.forEach((c) => c.close());
    const codes = await topo?.stop();
    expectEach(codes ?? {}, (code) => code === 0, 'every role to exit 0');
  });

  it('carries a payment from transaction through auth to psp end to end', async () => {
    const api = topo.get('transaction');
    const token = await tokenOf(topo.get('auth').url, users.alice);
    const accepted = await post(`${api.url}/transaction/transaction`, {
      amount: '100',
      currency: 'USD',
      token,
    });
    expect(accepted.status).toBe(200);
    const done = await waitFor(
      async () => {
        const res = await get(`${api.url}/transaction/transaction/${accepted.body.id}`, {
          authorization: `Bearer ${token}`,
        });
        return res.body.status === 'completed' ? res : undefined;
      },
      'completion',
      POLL,
    );
    expect(done.body.status).toBe('completed');
  });

  it('serves the generator its conversions from the exchange', async () => {
    const res = await get(`${topo.get('generator').url}/generator/random`);
    expect(res.status).toBe(200);
    expect(res.body.rate).toEqual(expect.any(Number));
  });

  it("answers a role the table allows: the generator's certificate may call exchange.convert", async () => {
    const res = await call(stockClient(exchange, certs.roles.generator), 'exchange.convert', conversion);
    expect(res).toMatchObject({ from: 'EUR', to: 'USD', amount: 100 });
  });

  it("refuses psp.process to the generator's certificate with caller_not_allowed, and logs the caller", async () => {
    const order = {
      transactionId: '00000000-0000-4000-8000-000000000000',
      userId: 1,
      amount: 1,
      currency: 'USD',
    };
    await expect(call(stockClient(psp, certs.roles.generator), 'psp.process', order)).rejects.toMatchObject({
      status: 403,
      code: 'caller_not_allowed',
    });
    const line = await psp.waitForLog((l) => l.pattern === 'psp.process' && l.level === 'warn');
    expect(line).toMatchObject({ caller: ['generator'] });
    expect(line.msg).toMatch(/refused rpc caller generator for psp\.process/);
  });

  it('refuses exchange.convert to a role that does not call the exchange (transaction)', async () => {
    await expect(
      call(stockClient(exchange, certs.roles.transaction), 'exchange.convert', conversion),
    ).rejects.toMatchObject({ status: 403, code: 'caller_not_allowed' });
  });

  it('refuses auth.verify to every role but transaction, which reaches the handler', async () => {
    const auth = topo.get('auth');
    await expect(
      call(stockClient(auth, certs.roles.psp), 'auth.verify', { token: 'x' }),
    ).rejects.toMatchObject({
      status: 403,
      code: 'caller_not_allowed',
    });
    const judged = await call(stockClient(auth, certs.roles.transaction), 'auth.verify', {
      token: 'x',
    }).catch((e: unknown) => e);
    expect(judged).toMatchObject({ status: 401 });
  });

  it("refuses master.report to a certificate of a role other than child (the master's own)", async () => {
    const report = { childId: 'c-intruder', numbers: [1, 2, 3] };
    await expect(
      call(stockClient(topo.get('master'), certs.roles.master), 'master.report', report),
    ).rejects.toMatchObject({ status: 403, code: 'caller_not_allowed' });
  });

  it('hands a child its own certificate: the child reports to the master and succeeds', async () => {
    const url = topo.get('master').url;
    const created = await post(`${url}/master/children`, { count: 200 });
    expect(created.status).toBe(202);
    const ended = await waitFor(
      async () => {
        const res = await get(`${url}/master/children/${created.body.id}`);
        return ['succeeded', 'failed'].includes(res.body.status) ? res : undefined;
      },
      'the child to end',
      POLL,
    );
    expect(ended.body.status).toBe('succeeded');
    const progress = await get(`${url}/master/progress`);
    expect(progress.body.received).toBe(200);
  });

  /** A failed handshake: an Error from the socket, never an RPC answer (which would be a plain object). */
  async function handshakeRefusal(client: ClientTCP): Promise<Error> {
    const outcome = await call(client, 'exchange.convert', conversion).then(
      () => new Error('the call was answered'),
      (e: unknown) => e,
    );
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).message).not.toBe('the call was answered');
    return outcome as Error;
  }

  it('refuses, at the handshake, a stock ClientTCP that presents no certificate', async () => {
    const client = stockClient(exchange);
    await handshakeRefusal(client);
    expect(reported.get(client)).toContainEqual(
      expect.objectContaining({ code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' }),
    );
  });

  it('refuses an expired certificate of an allowed role', async () => {
    const expired = makeRoleCert(dir, certs.ca, 'generator-expired', ['generator'], {
      notBefore: '20200101000000Z',
      notAfter: '20200102000000Z',
    });
    await handshakeRefusal(stockClient(exchange, expired));
  });

  it('refuses a certificate naming an allowed role but signed by another CA', async () => {
    const otherDir = tempDir('other-ca');
    const stranger = makeRoleCert(otherDir, makeCa(otherDir), 'generator', ['generator']);
    await handshakeRefusal(stockClient(exchange, stranger));
  });
});

describe('mutual TLS with several roles in one process', () => {
  it('leaves in-process calls alone, even under a certificate that may call nothing', async () => {
    await ensureCommand('openssl', 'openssl');
    const dir = tempDir('mtls-all');
    const ca = makeCa(dir);
    const nobody = makeRoleCert(dir, ca, 'echo-server', ['echo-server']);
    const topo = await Topology.start([
      {
        role: 'exchange,generator',
        name: 'both',
        env: { RPC_TLS: 'mutual', RPC_TLS_CA: ca.cert, RPC_TLS_CERT: nobody.cert, RPC_TLS_KEY: nobody.key },
      },
    ]);
    try {
      const res = await get(`${topo.get('both').url}/generator/random`);
      expect(res.status).toBe(200);
      expect(res.body.rate).toEqual(expect.any(Number));
    } finally {
      await topo.stop();
    }
  });
});
