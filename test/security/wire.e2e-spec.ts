// Attacks on the Nest TCP ports of a production deployment (one process per role, NODE_ENV=production, which the
// harness runs under mutual TLS as compose and Kubernetes ship it), sent the way an attacker would: a raw socket
// writing Nest's TCP framing. Nothing forged is paid or counted.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as connectTcp, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import pg from 'pg';
import { makeCa, makeRoleCert } from '../../src/roles/certs/role-certs.js';
import { secrets } from '../payments/payments.fixtures.js';
import { testClientTls, Topology, type RoleProcess } from '../harness/topology.js';

/** What the reviewer sent: a payment for a user and a transaction that do not exist. */
const forged = {
  payment: { id: '6f1c1d7e-1111-4111-8111-111111111111', user_id: 42, amount: '999999.99', currency: 'USD' },
  report: { childId: 'c1-forged', secret: 'guessed-secret-0123456789', seq: 0, numbers: [1, 2, 3, 4, 5] },
  done: { childId: 'c1-forged', secret: 'guessed-secret-0123456789', batches: 1, numbers: 5, stopped: false },
};

/** Nest's TCP framing: `<byte length>#<JSON packet>`. */
function frame(pattern: string, data: unknown, id: string): string {
  const json = JSON.stringify({ pattern, data, id });
  return `${Buffer.byteLength(json)}#${json}`;
}

interface Outcome {
  /** Every byte the server sent back. */
  received: string;
  /** The socket error, if the connection failed (a refused handshake). */
  error?: string;
}

/** Writes `payload` on `socket` once it is up; resolves with what came back once the server closes or replies. */
function exchange(socket: Socket, ready: string, payload: string, replyId?: string): Promise<Outcome> {
  return new Promise((resolve) => {
    let received = '';
    const finish = (error?: Error) => {
      socket.destroy();
      resolve({ received, ...(error ? { error: error.message } : {}) });
    };
    socket.once(ready, () => socket.write(payload));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (replyId && received.includes(`"id":"${replyId}"`)) finish();
    });
    socket.once('error', finish);
    socket.once('close', () => finish());
    socket.setTimeout(15_000, () => finish(new Error('no answer in 15 s')));
  });
}

/** The reply packet to `id` in a framed answer. */
function reply(outcome: Outcome, id: string): { err?: { status: number; code: string }; response?: unknown } {
  const packet = outcome.received
    .split(/\d+#(?=\{)/)
    .filter(Boolean)
    .map((p) => JSON.parse(p) as { id: string })
    .find((p) => p.id === id);
  if (!packet) throw new Error(`no reply to ${id} in ${JSON.stringify(outcome)}`);
  return packet as never;
}

describe('forged Nest TCP packets against a production deployment', () => {
  let topo: Topology;
  let psp: RoleProcess;
  let master: RoleProcess;
  let strangerDir: string;

  const plain = (target: RoleProcess, payload: string) =>
    exchange(connectTcp(target.tcpPort, '127.0.0.1'), 'connect', payload);
  const overTls = (target: RoleProcess, tls: ConnectionOptions, payload: string, id: string) =>
    exchange(connectTls({ host: '127.0.0.1', port: target.tcpPort, ...tls }), 'secureConnect', payload, id);

  beforeAll(async () => {
    strangerDir = mkdtempSync(join(tmpdir(), 'polyrole-stranger-ca-'));
    topo = await Topology.start(
      ['auth', 'psp', 'transaction', 'master'].map((role) => ({ role })),
      {
        env: { NODE_ENV: 'production', JWT_SECRET: secrets.jwt, MASTER_RANGE: '1000' },
        readyTimeoutMs: 120_000,
      },
    );
    psp = topo.get('psp');
    master = topo.get('master');
  }, 180_000);
  afterAll(async () => {
    rmSync(strangerDir, { recursive: true, force: true });
    const codes = await topo?.stop();
    expect(Object.values(codes ?? {}).every((c) => c === 0)).toBe(true);
  });

  it('runs every role under mutual TLS, as production requires', () => {
    for (const p of topo.processes.values()) expect(p.env.RPC_TLS).toBe('mutual');
  });

  it('closes a plaintext psp.process at the handshake, without a reply', async () => {
    const outcome = await plain(psp, frame('psp.process', forged.payment, 'forged-plain'));
    expect(outcome.received).not.toContain('forged-plain');
  });

  it('refuses the handshake of a certificate from another CA', async () => {
    const ca = makeCa(strangerDir);
    const pair = makeRoleCert(strangerDir, ca, 'transaction', ['transaction']);
    const outcome = await overTls(
      psp,
      {
        ca: testClientTls('transaction', true)!.ca,
        cert: readFileSync(pair.cert),
        key: readFileSync(pair.key),
        checkServerIdentity: () => undefined,
      },
      frame('psp.process', forged.payment, 'forged-stranger'),
      'forged-stranger',
    );
    expect(outcome.received).not.toContain('forged-stranger');
  });

  it('refuses psp.process to a deployment certificate of a role that does not call psp (caller_not_allowed)', async () => {
    const id = 'forged-generator';
    const outcome = await overTls(
      psp,
      testClientTls('generator', true)!,
      frame('psp.process', forged.payment, id),
      id,
    );
    expect(reply(outcome, id).err).toMatchObject({ status: 403, code: 'caller_not_allowed' });
  });

  it("refuses master.report and master.done from the children's certificate without the child's own secret", async () => {
    for (const [pattern, data] of [
      ['master.report', forged.report],
      ['master.done', forged.done],
    ] as const) {
      const id = `forged-${pattern}`;
      const outcome = await overTls(master, testClientTls('child', true)!, frame(pattern, data, id), id);
      expect(reply(outcome, id).err).toMatchObject({ status: 403, code: 'child_not_recognised' });
    }
    const progress = await (await fetch(`${master.url}/master/progress`)).json();
    expect(progress).toMatchObject({ uniqueNumbers: 0, received: 0 });
  });

  it('paid nothing: no payment line in the psp log and no processed payment in its table', async () => {
    expect(psp.output.join('\n')).not.toContain('Making transaction with PSP');
    const db = new pg.Client({ connectionString: topo.databaseUrl });
    await db.connect();
    try {
      const { rows } = await db.query('SELECT count(*)::int AS n FROM processed_payments');
      expect(rows[0].n).toBe(0);
    } finally {
      await db.end();
    }
  });
});
