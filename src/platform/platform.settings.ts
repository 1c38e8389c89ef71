// Settings every role reads. Module-specific settings live beside their modules.
import { defineSettings, type SettingsOf } from './config/settings.js';
import { int, ipList, oneOf, port, str, url, bool, secretBytes } from './config/parsers.js';

/** `server`: the listener proves who it is; `mutual`: every caller does too, and its role is checked. */
export type RpcTlsMode = 'off' | 'server' | 'mutual';

function rpcTlsMode(raw: unknown): RpcTlsMode {
  if (String(raw).trim().toLowerCase() === 'mutual') return 'mutual';
  try {
    return bool()(raw) ? 'server' : 'off';
  } catch {
    throw new Error('must be false, true or mutual');
  }
}

export const platformSettings = defineSettings(
  {
    nodeEnv: {
      env: 'NODE_ENV',
      default: 'development',
      parse: oneOf(['development', 'production', 'test'] as const),
    },
    /** Loopback unless told otherwise: the image sets 0.0.0.0 (docker/Dockerfile), a laptop's `npm start` does not. */
    httpHost: { env: 'HTTP_HOST', default: '127.0.0.1', parse: str() },
    httpPort: { env: 'HTTP_PORT', default: 3000, parse: port() },
    httpBodyLimit: { env: 'HTTP_BODY_LIMIT_BYTES', default: 1_048_576, parse: int({ min: 1024 }) },
    /** Proxies (addresses or CIDR blocks) whose X-Forwarded-For names the client; anyone else is the client. */
    trustedProxies: { env: 'TRUSTED_PROXIES', default: [] as string[], parse: ipList() },
    tcpHost: { env: 'TCP_HOST', default: '127.0.0.1', parse: str() },
    tcpPort: { env: 'TCP_PORT', default: 4000, parse: port() },
    databaseUrl: {
      env: 'DATABASE_URL',
      optional: true,
      secret: true,
      parse: url(['postgres', 'postgresql']),
    },
    dataDir: { env: 'DATA_DIR', default: './data', parse: str() },
    logLevel: {
      env: 'LOG_LEVEL',
      default: 'info',
      parse: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
    },
    logFormat: {
      env: 'LOG_FORMAT',
      default: 'auto' as const,
      parse: oneOf(['auto', 'json', 'pretty'] as const),
    },
    logAccess: { env: 'LOG_ACCESS', default: false, parse: bool() },
    shutdownGraceMs: { env: 'SHUTDOWN_GRACE_MS', default: 10_000, parse: int({ min: 100 }) },
    shutdownDrainDelayMs: { env: 'SHUTDOWN_DRAIN_DELAY_MS', default: 0, parse: int({ min: 0 }) },
    healthTimeoutMs: { env: 'HEALTH_TIMEOUT_MS', default: 1000, parse: int({ min: 10 }) },
    /** An idle role gives its grown heap back after this long (src/platform/memory/idle-heap-trim.ts); 0: never. */
    heapTrimIdleMs: { env: 'HEAP_TRIM_IDLE_MS', default: 5000, parse: int({ min: 0 }) },
    rpcTimeoutMs: { env: 'RPC_TIMEOUT_MS', default: 5000, parse: int({ min: 1 }) },
    rpcRetries: { env: 'RPC_RETRIES', default: 3, parse: int({ min: 0, max: 10 }) },
    rpcMaxMessageBytes: { env: 'RPC_MAX_MESSAGE_BYTES', default: 4 * 1_048_576, parse: int({ min: 1024 }) },
    rpcResolveEveryMs: { env: 'RPC_RESOLVE_EVERY_MS', default: 5000, parse: int({ min: 0 }) },
    rpcTls: { env: 'RPC_TLS', default: 'off' as RpcTlsMode, parse: rpcTlsMode },
    rpcTlsCert: { env: 'RPC_TLS_CERT', optional: true, parse: str() },
    rpcTlsKey: { env: 'RPC_TLS_KEY', optional: true, secret: true, parse: str() },
    rpcTlsCa: { env: 'RPC_TLS_CA', optional: true, parse: str() },
    /**
     * With NODE_ENV=production a role that serves or calls Nest TCP needs RPC_TLS=mutual; this accepts callers
     * nobody authenticated instead (see rpcPlaintextProblem). Its name is the warning.
     */
    rpcInsecurePlaintext: { env: 'RPC_INSECURE_PLAINTEXT', default: false, parse: bool() },
    /** The operations console and operations endpoints; unset: on, except with NODE_ENV=production. */
    consoleEnabled: { env: 'CONSOLE_ENABLED', optional: true, parse: bool() },
    /** Bearer token for the console and operations endpoints; required when they are on in production. */
    consoleToken: {
      env: 'CONSOLE_TOKEN',
      optional: true,
      secret: true,
      parse: secretBytes({ minBytes: 32 }),
    },
    /** How long the console's session cookie lasts after the sign-in that set it. */
    consoleSessionTtlS: {
      env: 'CONSOLE_SESSION_TTL_S',
      default: 28_800,
      parse: int({ min: 60, max: 30 * 86_400 }),
    },
  },
  {
    policies: [
      (p) =>
        p.rpcTls !== 'mutual'
          ? undefined
          : (
              [
                [p.rpcTlsCert, 'RPC_TLS_CERT'],
                [p.rpcTlsKey, 'RPC_TLS_KEY'],
                [p.rpcTlsCa, 'RPC_TLS_CA'],
              ] as const
            )
              .filter(([value]) => !value)
              .map(([, name]) => `${name} is required with RPC_TLS=mutual`),
      (p, { production }) =>
        production && p.consoleEnabled === true && !p.consoleToken
          ? 'CONSOLE_TOKEN is required when CONSOLE_ENABLED=true with NODE_ENV=production'
          : undefined,
    ],
  },
);

export type PlatformSettings = SettingsOf<typeof platformSettings>;

/**
 * Why a process may not talk Nest TCP the way it is configured, or undefined. Only a process that serves a TCP
 * listener or calls a peer over one is asked: in production, anything short of mutual TLS lets whoever reaches the
 * port call every pattern (pay, report progress), so it takes an explicit, insecure-named opt-out.
 */
export function rpcPlaintextProblem(
  p: Pick<PlatformSettings, 'nodeEnv' | 'rpcTls' | 'rpcInsecurePlaintext'>,
  usesTcp: boolean,
): string | undefined {
  if (!usesTcp || p.nodeEnv !== 'production' || p.rpcTls === 'mutual' || p.rpcInsecurePlaintext)
    return undefined;
  return (
    `RPC_TLS=mutual is required with NODE_ENV=production for a role that serves or calls Nest TCP ` +
    `(RPC_TLS is ${p.rpcTls}): set RPC_TLS=mutual with RPC_TLS_CA, RPC_TLS_CERT and RPC_TLS_KEY, ` +
    `or RPC_INSECURE_PLAINTEXT=true to accept callers nobody authenticates`
  );
}

/** The line a process logs at boot when RPC_INSECURE_PLAINTEXT is what lets it start. */
export function rpcPlaintextWarning(
  p: Pick<PlatformSettings, 'nodeEnv' | 'rpcTls' | 'rpcInsecurePlaintext'>,
  usesTcp: boolean,
): string | undefined {
  if (!p.rpcInsecurePlaintext) return undefined;
  return rpcPlaintextProblem({ ...p, rpcInsecurePlaintext: false }, usesTcp)
    ? 'INSECURE: RPC_INSECURE_PLAINTEXT=true: Nest TCP runs without mutual TLS in production; anyone who reaches ' +
        'the TCP port can call every pattern this role serves'
    : undefined;
}
