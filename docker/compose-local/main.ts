// `npm run compose:local`: docker-compose.yml run as local processes, no container engine needed.
// Prints the entry port when everything is healthy; SIGTERM or Ctrl-C stops it all gracefully.
import { createWriteStream, existsSync, mkdirSync, type WriteStream } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { AdminServer } from './admin.js';
import { ComposeError } from './compose-file.js';
import { ComposeLocal } from './compose-local.js';
import { freeStablePort } from './stable-port.js';

/** Printed once everything is healthy, for scripts and tests: `compose:local ready {json}`. */
export const READY_MARKER = 'compose:local ready ';
export const STOPPED_MARKER = 'compose:local stopped ';

const USAGE = `usage: npm run compose:local -- [options]
  -f, --file FILE        compose file (default: docker-compose.yml of the repository)
  --env-file FILE        variables to interpolate (default: .env beside the compose file)
  --data-dir DIR         embedded PostgreSQL data (default: data/compose-local/postgres); kept across runs
  --port N               the gateway's entry port (default: the compose file's published port, 8080)
  --free-ports           publish the gateway, echo and gRPC ports on free ports instead of the compose ones
  --admin-port N         the control interface's port on 127.0.0.1 (default: a free one)
  --logs-dir DIR         write each service's output to DIR/<service>.log instead of the terminal
  --timeout MS           how long every service may take to become healthy (default 120000)`;

// dist-tools/docker/compose-local/main.js -> the repository root.
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

async function availableParts(): Promise<Set<string>> {
  const file = join(ROOT, 'dist/roles/parts.js');
  if (!existsSync(file)) throw new ComposeError([`${file} is missing: run \`npm run build\` first`]);
  const { PARTS } = (await import(pathToFileURL(file).href)) as { PARTS: Record<string, unknown> };
  return new Set(Object.keys(PARTS));
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        file: { type: 'string', short: 'f' },
        'env-file': { type: 'string' },
        'data-dir': { type: 'string' },
        port: { type: 'string' },
        'free-ports': { type: 'boolean' },
        'admin-port': { type: 'string' },
        'logs-dir': { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    process.stderr.write(`compose:local: ${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const log = (line: string) => process.stdout.write(`compose:local | ${line}\n`);
  const logsDir = args['logs-dir'] && resolve(args['logs-dir']);
  const streams = new Map<string, WriteStream>();
  if (logsDir) mkdirSync(logsDir, { recursive: true });
  const output = (service: string, line: string) => {
    if (!logsDir) {
      process.stdout.write(`${service.padEnd(12)}| ${line}\n`);
      return;
    }
    let stream = streams.get(service);
    if (!stream)
      streams.set(service, (stream = createWriteStream(join(logsDir, `${service}.log`), { flags: 'a' })));
    stream.write(`${line}\n`);
  };

  let topo: ComposeLocal | undefined;
  const control: { admin?: AdminServer } = {};
  let stopping = false;
  const stop = async (reason: string) => {
    if (stopping) return;
    stopping = true;
    log(`${reason}: stopping every service (dependents first)`);
    const codes = (await topo?.down()) ?? {};
    await control.admin?.close();
    for (const s of streams.values()) s.end();
    const bad = Object.values(codes).filter((code) => code !== 0);
    process.stdout.write(`${STOPPED_MARKER}${JSON.stringify({ exitCodes: codes })}\n`);
    process.exit(bad.length > 0 ? 1 : 0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));

  try {
    topo = await ComposeLocal.up({
      composeFile: resolve(args.file ?? join(ROOT, 'docker-compose.yml')),
      root: ROOT,
      env: { ...process.env },
      envFile: args['env-file'] && resolve(args['env-file']),
      dataDir: resolve(args['data-dir'] ?? join(ROOT, 'data/compose-local/postgres')),
      freePorts: args['free-ports'],
      gatewayPort: args.port === undefined ? undefined : Number(args.port),
      availableParts: await availableParts(),
      startTimeoutMs: Number(args.timeout ?? 120_000),
      output,
      log,
      allocatePort: freeStablePort,
    });
  } catch (err) {
    const problems = err instanceof ComposeError ? err.problems : [(err as Error).stack ?? String(err)];
    process.stderr.write(`compose:local: could not start:\n  - ${problems.join('\n  - ')}\n`);
    for (const s of streams.values()) s.end();
    process.exit(1);
  }
  if (stopping) return;
  control.admin = new AdminServer(topo, log);
  const adminPort = await control.admin.listen(
    args['admin-port'] === undefined ? 0 : Number(args['admin-port']),
  );
  const status = topo.status();
  const running = new Set(status.services.filter((s) => s.state !== 'skipped').map((s) => s.name));
  const published = Object.fromEntries(
    Object.entries(status.published).filter(([name, p]) => running.has(name) && Object.keys(p).length > 0),
  );
  const lines = [
    `gateway (every HTTP prefix): http://127.0.0.1:${status.gateway?.port}`,
    ...Object.entries(published).flatMap(([name, ports]) =>
      Object.entries(ports).map(
        ([container, local]) => `${name} (container port ${container}): 127.0.0.1:${local}`,
      ),
    ),
    `control interface: http://127.0.0.1:${adminPort}/status`,
    ...status.services.filter((s) => s.state === 'skipped').map((s) => `skipped: ${s.name} (${s.skipped})`),
  ];
  for (const line of lines) log(line);
  process.stdout.write(
    `${READY_MARKER}${JSON.stringify({ gateway: status.gateway?.port, admin: adminPort, published })}\n`,
  );
}

void main();
