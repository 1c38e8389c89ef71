// The images the compose file needs: the official one when the engine has it or can pull it, else a local
// stand-in built by docker/stand-ins/*.sh, tagged with a hash of everything it is made from, so a machine builds
// each stand-in once and again only when its inputs change. Traefik has no stand-in: without it there is no gateway.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../harness/topology.js';
import { type Engine, run } from './engine.util.js';

/** The official images, as docker/Dockerfile, docker-compose.yml and docker/netcat-test.sh name them. */
export const OFFICIAL = {
  node: 'node:24-bookworm-slim',
  postgres: 'postgres:17-bookworm',
  traefik: 'traefik:v3.1',
  busybox: 'busybox:1.36',
} as const;
export type ImageKind = keyof typeof OFFICIAL;

export interface ResolvedImage {
  kind: ImageKind;
  image: string;
  /** True when it is a local stand-in for the official image. */
  standIn: boolean;
  /** Seconds spent building it in this run (0 when reused). */
  builtSeconds: number;
}

const STAND_INS = join(ROOT, 'docker', 'stand-ins');

type StandInKind = Exclude<ImageKind, 'traefik'>;
const STAND_IN = {
  node: { script: 'node-base.sh', repo: 'localhost/polyrole-node-base' },
  postgres: { script: 'postgres.sh', repo: 'localhost/polyrole-postgres' },
  busybox: { script: 'busybox.sh', repo: 'localhost/polyrole-busybox' },
} as const;

function inputsHash(kind: StandInKind): string {
  const h = createHash('sha256');
  h.update(readFileSync(join(STAND_INS, STAND_IN[kind].script)));
  if (kind === 'postgres') h.update(readFileSync(join(STAND_INS, 'postgres-entrypoint.sh')));
  if (kind === 'node') {
    // The stand-in holds the Node the lockfile pins (node-linux-<cpu>), this machine's npm and its authorities.
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { integrity?: string }>;
    };
    for (const cpu of ['x64', 'arm64'])
      h.update(lock.packages[`node_modules/node-linux-${cpu}`]?.integrity ?? '');
    h.update(execFileSync('npm', ['--version'], { encoding: 'utf8' }));
    h.update(readFileSync('/etc/ssl/certs/ca-certificates.crt'));
  }
  return h.digest('hex').slice(0, 12);
}

async function standIn(engine: Engine, kind: StandInKind): Promise<ResolvedImage> {
  const { script, repo } = STAND_IN[kind];
  const image = `${repo}:${inputsHash(kind)}`;
  if (await engine.imagePresent(image)) return { kind, image, standIn: true, builtSeconds: 0 };
  const started = Date.now();
  const built = await run('bash', [join(STAND_INS, script), image], {
    env: { ...engine.env, ENGINE: engine.cli },
    timeoutMs: 600_000,
  });
  if (built.code !== 0) throw new Error(`building the ${kind} stand-in failed:\n${built.stderr}`);
  // Older stand-ins of the same kind were made from other inputs: nothing uses them any more.
  const tags = await engine.run(['images', '--format', '{{.Repository}}:{{.Tag}}', repo]);
  for (const old of tags.stdout.split('\n').filter((t) => t.startsWith(`${repo}:`) && t !== image)) {
    await engine.run(['rmi', old]);
  }
  return { kind, image, standIn: true, builtSeconds: Math.round((Date.now() - started) / 1000) };
}

/** The official image when present or pullable; else the stand-in (none for Traefik: undefined). */
export async function resolveImage(engine: Engine, kind: ImageKind): Promise<ResolvedImage | undefined> {
  const official = OFFICIAL[kind];
  if (await engine.imagePresent(official)) return { kind, image: official, standIn: false, builtSeconds: 0 };
  const pulled = await engine.run(['pull', official], { timeoutMs: 180_000 });
  if (pulled.code === 0) return { kind, image: official, standIn: false, builtSeconds: 0 };
  return kind === 'traefik' ? undefined : standIn(engine, kind);
}
