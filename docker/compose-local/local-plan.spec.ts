import { join, resolve } from 'node:path';
import { ComposeError, loadComposeFile } from './compose-file.js';
import { planLocal, startOrder, type LocalPlan } from './local-plan.js';

const repoRoot = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');
const composeEnv = { JWT_SECRET: 'test-only-secret' };
const embeddedUrl = 'postgres://postgres:pw@127.0.0.1:6543/postgres';

/** Hands out 20000, 20001, ... so every assertion on a port is exact. */
function counter(from = 20_000) {
  let next = from;
  return async () => next++;
}

async function planOfRepoCompose(opts: { freePorts?: boolean } = {}): Promise<LocalPlan> {
  const file = loadComposeFile(join(repoRoot, 'docker-compose.yml'), composeEnv);
  return planLocal(file, {
    composeDir: repoRoot,
    allocatePort: counter(),
    databaseUrl: embeddedUrl,
    ...opts,
  });
}

describe(planLocal.name, () => {
  let plan: LocalPlan;
  const service = (name: string) => plan.services.find((s) => s.name === name)!;

  beforeAll(async () => {
    plan = await planOfRepoCompose();
  });

  it('runs every service with a ROLE; postgres and the gateway are stood in for', () => {
    expect(plan.services.map((s) => s.name).sort()).toEqual([
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
    expect(plan.postgres).toEqual({ name: 'postgres', database: 'polyrole' });
    expect(plan.gateway).toEqual({
      name: 'gateway',
      port: 8080,
      routesFile: join(repoRoot, 'docker/traefik/routes.yml'),
    });
    expect(plan.unsupported).toEqual([]);
  });

  it('makes the certificates itself, and points each role at its own set and the children at theirs', () => {
    const certs = join(repoRoot, 'data', 'compose-local', 'volumes', 'certs');
    expect(plan.certs).toEqual({ name: 'certs', dir: certs });
    expect(service('psp').env).toMatchObject({
      RPC_TLS: 'mutual',
      RPC_TLS_CA: join(certs, 'psp', 'ca.pem'),
      RPC_TLS_CERT: join(certs, 'psp', 'cert.pem'),
      RPC_TLS_KEY: join(certs, 'psp', 'key.pem'),
    });
    expect(service('master').env).toMatchObject({
      RPC_TLS_CERT: join(certs, 'master', 'cert.pem'),
      MASTER_CHILD_TLS_CERT: join(certs, 'child', 'cert.pem'),
      MASTER_CHILD_TLS_KEY: join(certs, 'child', 'key.pem'),
    });
    expect(service('master').env.MASTER_CHILD_TLS_DIR).toBeUndefined();
  });

  it("trusts X-Forwarded-For from the local gateway where compose trusts the gateway's pinned address", () => {
    expect(service('auth').env.TRUSTED_PROXIES).toBe('127.0.0.1');
  });

  it('gives every container port its own loopback port', () => {
    const ports = plan.services.flatMap((s) => Object.values(s.ports));

    expect(new Set(ports).size).toBe(ports.length);
    expect(Object.keys(service('calculator').ports).sort()).toEqual(['3000', '4000', '50051']);
  });

  it('keeps the published host ports, or picks free ones when asked', async () => {
    expect(service('echo-server').published).toEqual({ 12345: 12345 });
    expect(service('calculator').ports[50051]).toBe(50051);

    const free = await planOfRepoCompose({ freePorts: true });
    const echo = free.services.find((s) => s.name === 'echo-server')!;
    expect(echo.published[12345]).toBeGreaterThanOrEqual(20_000);
    expect(echo.env.ECHO_PORT).toBe(String(echo.published[12345]));
    expect(free.gateway!.port).toBeGreaterThanOrEqual(20_000);
  });

  it('points every peer address at the callee`s loopback port', () => {
    expect(service('generator').env.EXCHANGE_ADDR).toBe(`127.0.0.1:${service('exchange').ports[4000]}`);
    expect(service('transaction').env.AUTH_ADDR).toBe(`127.0.0.1:${service('auth').ports[4000]}`);
    expect(service('transaction').env.PSP_ADDR).toBe(`127.0.0.1:${service('psp').ports[4000]}`);
    expect(service('echo-client').env.ECHO_SERVER_ADDR).toBe('127.0.0.1:12345');
  });

  it('leaves no compose host name in any environment value', () => {
    const names = ['postgres', 'gateway', ...plan.services.map((s) => s.name)];
    const leftovers = plan.services.flatMap((s) =>
      Object.entries(s.env)
        .filter(([, v]) => names.some((n) => new RegExp(`(^|[/@])${n}:\\d`).test(v)))
        .map(([k, v]) => `${s.name}: ${k}=${v}`),
    );

    expect(leftovers).toEqual([]);
  });

  it('sets each listener variable to its loopback port and binds loopback only', () => {
    const calc = service('calculator');

    expect(calc.env).toMatchObject({
      HTTP_PORT: String(calc.ports[3000]),
      TCP_PORT: String(calc.ports[4000]),
      GRPC_PORT: String(calc.ports[50051]),
      HTTP_HOST: '127.0.0.1',
      TCP_HOST: '127.0.0.1',
      GRPC_HOST: '127.0.0.1',
    });
    expect(calc.httpPort).toBe(calc.ports[3000]);
  });

  it('gives the database roles the embedded server, with the compose database name', () => {
    for (const name of ['calculator', 'auth', 'transaction', 'psp', 'master']) {
      expect(service(name).env.DATABASE_URL).toBe('postgres://postgres:pw@127.0.0.1:6543/polyrole');
    }
    expect(service('exchange').env.DATABASE_URL).toBeUndefined();
  });

  it('maps the config/ bind mount to the repository`s config directory', () => {
    expect(service('exchange').env.CONFIG_DIR).toBe(join(repoRoot, 'config'));
  });

  it('runs the master with the process spawner, children dialing its loopback TCP port', () => {
    expect(service('master').env).toMatchObject({
      MASTER_SPAWNER: 'process',
      MASTER_ADVERTISE_ADDR: `127.0.0.1:${service('master').ports[4000]}`,
    });
    expect(plan.notes.join('\n')).toMatch(/MASTER_SPAWNER=docker -> process/);
  });

  it('takes the healthcheck path, restart policy, grace period and job flag from compose and the role table', () => {
    expect(service('transaction')).toMatchObject({
      healthPath: '/health/ready',
      restart: 'unless-stopped',
      stopGraceMs: 15_000,
      job: false,
    });
    expect(service('echo-client')).toMatchObject({ restart: 'on-failure', job: true });
  });

  it('rewrites the gateway`s upstream URLs through the same map', () => {
    expect(plan.rewrite('http://exchange:3000')).toBe(`http://127.0.0.1:${service('exchange').ports[3000]}`);
    expect(plan.rewrite('http://exchange-x:3000')).toBe('http://exchange-x:3000');
  });
});

describe(startOrder.name, () => {
  const svc = (name: string, ...deps: string[]) => ({
    name,
    dependsOn: Object.fromEntries(deps.map((d) => [d, 'service_healthy'])),
  });

  it('puts every service after what it depends on', () => {
    const order = startOrder(
      [svc('transaction', 'auth', 'psp', 'postgres'), svc('psp'), svc('auth')],
      ['postgres'],
    );

    expect(order.indexOf('transaction')).toBeGreaterThan(order.indexOf('auth'));
    expect(order.indexOf('transaction')).toBeGreaterThan(order.indexOf('psp'));
  });

  it('rejects a cycle and an unknown dependency', () => {
    expect(() => startOrder([svc('a', 'b'), svc('b', 'a')], [])).toThrow(/cycle: a -> b -> a/);
    expect(() => startOrder([svc('a', 'ghost')], [])).toThrow(ComposeError);
  });
});
