// Settings of the master part (range, limits, which spawner and how it reaches Docker / Kubernetes) and of the
// child job (its id, range, count, seed, batching and the master's address).
import { defineSettings, type SettingsOf } from '../../platform/config/settings.js';
import { hostPort, int, oneOf, parseRateLimit, str, url } from '../../platform/config/parsers.js';

export const SPAWNER_KINDS = ['process', 'docker', 'kubernetes'] as const;
export type SpawnerKind = (typeof SPAWNER_KINDS)[number];

export const DEFAULT_MASTER_RANGE = 10_000_000;
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export const masterSettings = defineSettings(
  {
    range: {
      env: 'MASTER_RANGE',
      file: { name: 'master.yaml', key: 'range' },
      default: DEFAULT_MASTER_RANGE,
      parse: int({ min: 1, max: 2 ** 31 - 1 }),
    },
    maxChildren: {
      env: 'MASTER_MAX_CHILDREN',
      file: { name: 'master.yaml', key: 'maxChildren' },
      default: 8,
      parse: int({ min: 1, max: 10_000 }),
    },
    /** Children one client may start per window (besides maxChildren at once): `30/1m`, or `off`. */
    startRateLimit: {
      env: 'MASTER_START_RATE_LIMIT',
      file: { name: 'master.yaml', key: 'startRateLimit' },
      default: { max: 30, windowMs: 60_000 },
      parse: parseRateLimit,
    },
    childTimeoutMs: {
      env: 'MASTER_CHILD_TIMEOUT_MS',
      file: { name: 'master.yaml', key: 'childTimeoutMs' },
      default: 300_000,
      parse: int({ min: 1 }),
    },
    /** How long a stopped child gets between SIGTERM (or its platform equivalent) and a hard kill. */
    childStopGraceMs: {
      env: 'MASTER_CHILD_STOP_GRACE_MS',
      file: { name: 'master.yaml', key: 'childStopGraceMs' },
      default: 10_000,
      parse: int({ min: 0 }),
    },
    /** Derives a distinct CHILD_SEED for each child (see childSeedOf), so a run of children is reproducible. */
    childSeed: {
      env: 'MASTER_CHILD_SEED',
      file: { name: 'master.yaml', key: 'childSeed' },
      optional: true,
      parse: str({ minLength: 1, pattern: /^[\x21-\x7e]{1,64}$/ }),
    },
    /** Numbers per report a child sends (CHILD_BATCH_SIZE); unset leaves the child's default. */
    childBatchSize: {
      env: 'MASTER_CHILD_BATCH_SIZE',
      file: { name: 'master.yaml', key: 'childBatchSize' },
      optional: true,
      parse: int({ min: 1, max: 100_000 }),
    },
    spawner: {
      env: 'MASTER_SPAWNER',
      file: { name: 'master.yaml', key: 'spawner' },
      default: 'process' as SpawnerKind,
      parse: oneOf(SPAWNER_KINDS),
    },
    /** The address children dial to report (host:port of this master's TCP listener, as seen from a child). */
    advertiseAddr: {
      env: 'MASTER_ADVERTISE_ADDR',
      file: { name: 'master.yaml', key: 'advertiseAddr' },
      optional: true,
      parse: hostPort(),
    },
    /** Names this master in container labels and Job labels, so its children can be found and reaped. */
    name: {
      env: 'MASTER_NAME',
      file: { name: 'master.yaml', key: 'name' },
      default: 'master',
      parse: str({ pattern: /^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/ }),
    },
    dockerHost: {
      env: 'DOCKER_HOST',
      default: 'unix:///var/run/docker.sock',
      parse: url(['unix', 'tcp', 'http']),
    },
    childImage: {
      env: 'MASTER_CHILD_IMAGE',
      file: { name: 'master.yaml', key: 'childImage' },
      default: 'polyrole:latest',
      parse: str({ minLength: 1 }),
    },
    childNetwork: {
      env: 'MASTER_CHILD_NETWORK',
      file: { name: 'master.yaml', key: 'childNetwork' },
      optional: true,
      parse: str({ minLength: 1 }),
    },
    childCpuLimit: {
      env: 'MASTER_CHILD_CPU_LIMIT',
      file: { name: 'master.yaml', key: 'childCpuLimit' },
      default: '500m',
      parse: str({ pattern: /^\d+(\.\d+)?m?$/ }),
    },
    childMemoryLimit: {
      env: 'MASTER_CHILD_MEMORY_LIMIT',
      file: { name: 'master.yaml', key: 'childMemoryLimit' },
      default: '256Mi',
      parse: str({ pattern: /^\d+(Ki|Mi|Gi|K|M|G)?$/ }),
    },
    childJobTtlSeconds: {
      env: 'MASTER_CHILD_JOB_TTL_SECONDS',
      file: { name: 'master.yaml', key: 'childJobTtlSeconds' },
      default: 300,
      parse: int({ min: 0 }),
    },
    /** The child's own certificate and key under RPC_TLS=mutual (it calls as role child), as paths the child sees. */
    childTlsCert: { env: 'MASTER_CHILD_TLS_CERT', optional: true, parse: str({ minLength: 1 }) },
    childTlsKey: { env: 'MASTER_CHILD_TLS_KEY', optional: true, parse: str({ minLength: 1 }) },
    /**
     * Docker spawner: the host directory (absolute) or named volume holding them, mounted into each child at the
     * certificate's directory.
     */
    childTlsDir: {
      env: 'MASTER_CHILD_TLS_DIR',
      optional: true,
      parse: str({ pattern: /^(\/|[A-Za-z0-9][A-Za-z0-9_.-]+$)/ }),
    },
    /** Kubernetes spawner: the Secret holding them, mounted in each child Job at the certificate's directory. */
    childTlsSecret: {
      env: 'MASTER_CHILD_TLS_SECRET',
      optional: true,
      parse: str({ pattern: /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/ }),
    },
    kubernetesServiceHost: { env: 'KUBERNETES_SERVICE_HOST', optional: true, parse: str({ minLength: 1 }) },
    kubernetesServicePort: {
      env: 'KUBERNETES_SERVICE_PORT',
      default: 443,
      parse: int({ min: 1, max: 65535 }),
    },
    /** Directory of the pod's service-account token, CA certificate and namespace files. */
    serviceAccountDir: {
      env: 'MASTER_SERVICE_ACCOUNT_DIR',
      default: SERVICE_ACCOUNT_DIR,
      parse: str({ minLength: 1 }),
    },
  },
  {
    policies: [
      (s) =>
        s.spawner === 'kubernetes' && !s.kubernetesServiceHost
          ? 'MASTER_SPAWNER=kubernetes needs KUBERNETES_SERVICE_HOST (set inside a pod)'
          : undefined,
    ],
  },
);
export type MasterSettings = SettingsOf<typeof masterSettings>;

export const childSettings = defineSettings(
  {
    id: { env: 'CHILD_ID', parse: str({ pattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/ }) },
    /** The spawn's W3C traceparent: the child's reports join that trace (a malformed one starts a new trace). */
    traceparent: { env: 'TRACEPARENT', optional: true, parse: str() },
    /** Handed by the master at spawn; sent with every report so the master knows the child is the one it started. */
    secret: { env: 'CHILD_SECRET', secret: true, parse: str({ pattern: /^[A-Za-z0-9_-]{16,256}$/ }) },
    min: { env: 'CHILD_MIN', default: 0, parse: int({ min: 0 }) },
    max: { env: 'CHILD_MAX', default: DEFAULT_MASTER_RANGE, parse: int({ min: 1, max: 2 ** 31 - 1 }) },
    count: { env: 'CHILD_COUNT', default: 1000, parse: int({ min: 0, max: 1_000_000_000 }) },
    /** Fixes the random sequence (reproducible tests); unset means a fresh random seed. */
    seed: { env: 'CHILD_SEED', optional: true, parse: str({ minLength: 1 }) },
    /**
     * Numbers per report. The master's cost per batch (its share of a commit, a report row, a reply) is fixed while
     * its cost per number is small, so at 1000 it spends most of its time waiting on commits (about 0.15-0.25x a
     * bare parser); at 10,000 (about 80 KB of JSON per report) it keeps up with one (about 0.6x).
     */
    batchSize: { env: 'CHILD_BATCH_SIZE', default: 10_000, parse: int({ min: 1, max: 100_000 }) },
    /** Batches sent before the first is acknowledged; lets a child keep the master's group commit busy. */
    maxInFlight: { env: 'CHILD_MAX_IN_FLIGHT', default: 4, parse: int({ min: 1, max: 64 }) },
    reportAttempts: { env: 'CHILD_REPORT_ATTEMPTS', default: 8, parse: int({ min: 1, max: 100 }) },
    masterAddr: { env: 'MASTER_ADDR', default: { host: 'master', port: 4000 }, parse: hostPort() },
  },
  {
    policies: [
      (s) => (s.min >= s.max ? `CHILD_MIN (${s.min}) must be below CHILD_MAX (${s.max})` : undefined),
    ],
  },
);
export type ChildSettings = SettingsOf<typeof childSettings>;
