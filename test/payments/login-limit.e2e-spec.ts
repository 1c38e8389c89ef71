// The login limit holds cluster-wide: two auth processes on one database count together, the count survives a
// restart, and the client address is the socket's unless a trusted proxy (the local gateway) forwarded the call.
import { join } from 'node:path';
import { Gateway, loadRoutes } from '../../docker/compose-local/gateway.js';
import { Topology, ROOT } from '../harness/topology.js';
import { postFrom, secrets, users, type Answer } from './payments.fixtures.js';
import { expectEach } from '../harness/expect-each.js';

const LIMIT = 3;
/** Each test speaks from its own loopback addresses, so their counts never mix. */
const clients = {
  shared: '127.0.0.11',
  forger: '127.0.0.12',
  behindGatewayA: '127.0.0.13',
  behindGatewayB: '127.0.0.14',
  sprayers: ['127.0.0.15', '127.0.0.16'],
  owner: '127.0.0.17',
};
/** A blank body: it costs the address an attempt and names no username. */
const blank = {};

describe('the login limit across auth replicas', () => {
  let topo: Topology;
  let gateway: Gateway;
  let gatewayUrl: string;
  const login = (
    process: string,
    from: string,
    body: unknown = blank,
    headers: Record<string, string> = {},
  ) => postFrom(from, `${topo.get(process).url}/auth/token`, body, headers);
  const throughGateway = (from: string, body: unknown = blank) =>
    postFrom(from, `${gatewayUrl}/auth/token`, body);
  const statuses = (answers: Answer[]) => answers.map((a) => a.status);

  beforeAll(async () => {
    const env = {
      JWT_SECRET: secrets.jwt,
      AUTH_RATE_LIMIT: `${LIMIT}/60s`,
      AUTH_USERNAME_RATE_LIMIT: '2/60s',
      // The gateway dials auth from 127.0.0.1; every other loopback address is a client.
      TRUSTED_PROXIES: '127.0.0.1',
    };
    topo = await Topology.start(
      [
        { role: 'auth', name: 'auth-a' },
        { role: 'auth', name: 'auth-b' },
      ],
      { env },
    );
    const authUrl = topo.get('auth-a').url;
    gateway = new Gateway(
      loadRoutes(join(ROOT, 'docker/traefik/routes.yml'), (url) => url.replace('http://auth:3000', authUrl)),
    );
    gatewayUrl = `http://127.0.0.1:${await gateway.listen(0)}`;
  });
  afterAll(async () => {
    await gateway?.close();
    const codes = await topo?.stop();
    expectEach(codes ?? {}, (code) => code === 0, 'every role to exit 0');
  });

  it('counts attempts on both replicas against one limit, and answers a 429 problem with Retry-After', async () => {
    const first = [
      await login('auth-a', clients.shared),
      await login('auth-b', clients.shared),
      await login('auth-a', clients.shared),
    ];
    expect(statuses(first)).toEqual([422, 422, 422]);
    const refused = await login('auth-b', clients.shared);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(refused.body).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('still refuses that address after the replica restarts', async () => {
    await topo.get('auth-a').restart();
    expect((await login('auth-a', clients.shared)).status).toBe(429);
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const answers: Answer[] = [];
    for (let i = 0; i <= LIMIT; i++)
      answers.push(await login('auth-b', clients.forger, blank, { 'x-forwarded-for': `203.0.113.${i + 1}` }));
    expect(statuses(answers)).toEqual([422, 422, 422, 429]);
  });

  it('behind the gateway, gives each forwarded client its own count', async () => {
    const a: Answer[] = [];
    for (let i = 0; i <= LIMIT; i++) a.push(await throughGateway(clients.behindGatewayA));
    expect(statuses(a)).toEqual([422, 422, 422, 429]);
    expect((await throughGateway(clients.behindGatewayB)).status).toBe(422);
  });

  it('stops a username whose failures came from several addresses and replicas, even with its password', async () => {
    const wrong = { username: users.becky.username, password: 'not-her-password' };
    expect((await login('auth-a', clients.sprayers[0], wrong)).status).toBe(401);
    expect((await login('auth-b', clients.sprayers[1], wrong)).status).toBe(401);
    const owner = await login('auth-a', clients.owner, {
      username: users.becky.username,
      password: users.becky.password,
    });
    expect(owner.status).toBe(429);
    expect(owner.headers.get('retry-after')).toMatch(/^\d+$/);
  });
});
