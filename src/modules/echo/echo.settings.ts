// Settings of the two echo parts. Names follow the seed (SERVER_PORT, SERVER_LISTEN_BACKLOG, CLI_*) as aliases
// or canonical names, and each part reads its own file in config/, mounted at run time.
import { defineSettings, type SettingsOf } from '../../platform/config/settings.js';
import { duration, hostPort, int, oneOf, port, str } from '../../platform/config/parsers.js';
import { ECHO_EXPECTATIONS, type EchoExpectation } from './echo-client.job.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Pino level names; also takes the seed's logrus/Python spellings (`INFO`, `WARNING`). */
export function logLevel(): (raw: unknown) => LogLevel {
  return (raw) => {
    const s = String(raw).trim().toLowerCase();
    const level = s === 'warning' ? 'warn' : s === 'critical' ? 'fatal' : s;
    if (!(LOG_LEVELS as readonly string[]).includes(level))
      throw new Error(`must be one of ${LOG_LEVELS.join(', ')}`);
    return level as LogLevel;
  };
}

export const ECHO_SERVER_FILE = 'echo-server.yaml';
export const ECHO_CLIENT_FILE = 'echo-client.yaml';

export const echoServerSettings = defineSettings({
  port: {
    env: ['ECHO_PORT', 'SERVER_PORT'],
    file: { name: ECHO_SERVER_FILE, key: 'port' },
    default: 12345,
    parse: port(),
  },
  backlog: {
    env: ['ECHO_BACKLOG', 'SERVER_LISTEN_BACKLOG'],
    file: { name: ECHO_SERVER_FILE, key: 'backlog' },
    default: 511,
    parse: int({ min: 1 }),
  },
  idleTimeoutMs: {
    env: 'ECHO_IDLE_TIMEOUT_MS',
    file: { name: ECHO_SERVER_FILE, key: 'idleTimeoutMs' },
    default: 300_000,
    parse: int({ min: 0 }),
  },
  maxLineBytes: {
    env: 'ECHO_MAX_LINE_BYTES',
    file: { name: ECHO_SERVER_FILE, key: 'maxLineBytes' },
    default: 65_536,
    parse: int({ min: 1 }),
  },
  logLevel: {
    env: ['ECHO_LOG_LEVEL', 'LOGGING_LEVEL'],
    file: { name: ECHO_SERVER_FILE, key: 'log.level' },
    default: 'info' as LogLevel,
    parse: logLevel(),
  },
});
export type EchoServerSettings = SettingsOf<typeof echoServerSettings>;

export const echoClientSettings = defineSettings({
  id: { env: 'CLI_ID', file: { name: ECHO_CLIENT_FILE, key: 'id' }, parse: str({ minLength: 1 }) },
  serverAddress: {
    // ECHO_SERVER_ADDR is the platform's <ROLE>_ADDR peer convention, which the deployment files set.
    env: ['CLI_SERVER_ADDRESS', 'ECHO_SERVER_ADDR'],
    file: { name: ECHO_CLIENT_FILE, key: 'server.address' },
    default: { host: 'echo-server', port: 12345 },
    parse: hostPort(),
  },
  loopLapseMs: {
    env: 'CLI_LOOP_LAPSE',
    file: { name: ECHO_CLIENT_FILE, key: 'loop.lapse' },
    default: 60_000,
    parse: duration(),
  },
  loopPeriodMs: {
    env: 'CLI_LOOP_PERIOD',
    file: { name: ECHO_CLIENT_FILE, key: 'loop.period' },
    default: 5_000,
    parse: duration(),
  },
  /** `echo`: a reply must be the message; `any`: any one line (the seed's own server answers with its own text). */
  expect: {
    env: 'CLI_EXPECT',
    file: { name: ECHO_CLIENT_FILE, key: 'expect' },
    default: 'echo' as EchoExpectation,
    parse: oneOf(ECHO_EXPECTATIONS),
  },
  logLevel: {
    env: 'CLI_LOG_LEVEL',
    file: { name: ECHO_CLIENT_FILE, key: 'log.level' },
    default: 'info' as LogLevel,
    parse: logLevel(),
  },
});
export type EchoClientSettings = SettingsOf<typeof echoClientSettings>;
