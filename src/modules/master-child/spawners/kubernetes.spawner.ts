// Starts each child as a batch/v1 Job through the in-cluster Kubernetes API (@kubernetes/client-node) with the
// pod's service account: backoffLimit 0 (a child is not retried), ttlSecondsAfterFinished, labels naming the master,
// resource limits. It watches the Job (watching again when a watch ends, re-listing when its version expired),
// reads the pod's exit code and log tail when it finishes, and deletes the Job (Background propagation) to stop it.
import { readFile, stat } from 'node:fs/promises';
import type https from 'node:https';
import { join } from 'node:path';
import {
  ApiException,
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  type User,
  type V1Job,
  type V1Pod,
  type V1ContainerStateTerminated,
  Watch,
} from '@kubernetes/client-node';
import { AppError } from '../../../platform/errors/app-error.js';
import { SERVICE_ACCOUNT_DIR } from '../master.settings.js';
import {
  type ChildExit,
  type ChildHandle,
  type ChildSpawner,
  type ChildSpec,
  dnsLabel,
  roleEnv,
  SpawnError,
  TailBuffer,
} from './child-spawner.js';

export interface KubernetesSpawnerOptions {
  /** The API server, https://host:port (see kubernetesApiUrl). */
  apiUrl: string;
  /** Service-account files; default under /var/run/secrets/kubernetes.io/serviceaccount. */
  tokenPath?: string;
  caPath?: string;
  namespacePath?: string;
  /** Overrides the namespace file. */
  namespace?: string;
  image: string;
  masterName: string;
  ttlSecondsAfterFinished: number;
  cpuLimit: string;
  memoryLimit: string;
  /** The pod's terminationGracePeriodSeconds, rounded up from milliseconds. */
  stopGraceMs: number;
  /** A backstop for the master's own timeout: Kubernetes fails the Job after this long. */
  activeDeadlineSeconds?: number;
  baseEnv?: Record<string, string>;
  /** A Secret mounted read-only in every child at `mountPath` (the child's certificate under mutual TLS). */
  childSecret?: { name: string; mountPath: string };
  /** Job names are `<prefix>-<child id>`. Default polyrole-child. */
  namePrefix?: string;
  /** Lines of the pod's log kept as its tail. Default 50. */
  tailLines?: number;
  /** Pause before watching again after a watch failed. Default 1 s. */
  rewatchDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export const K8S_LABELS = {
  name: 'app.kubernetes.io/name',
  component: 'app.kubernetes.io/component',
  master: 'polyrole/master',
  childId: 'polyrole/child-id',
} as const;

/** Not exported by the library's index; its shape is what KubeConfig.addAuthenticator takes. */
type Authenticator = Parameters<KubeConfig['addAuthenticator']>[0];

const CONTAINER = 'child';
const TOKEN_PROVIDER = 'polyrole-rotating-token-file';

export function kubernetesApiUrl(host: string, port: number): string {
  return `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * The service-account token, read again whenever the file changes. Hand-written because the library's own
 * token-file auth keeps a token for 60 s, and a projected token rotated on disk must be used on the next call.
 */
class RotatingTokenFile implements Authenticator {
  private last: { stamp: string; token: string } | undefined;

  isAuthProvider(user: User): boolean {
    return (user.authProvider as { name?: string } | undefined)?.name === TOKEN_PROVIDER;
  }

  async applyAuthentication(user: User, opts: Pick<https.RequestOptions, 'headers'>): Promise<void> {
    const path = (user.authProvider as { config: { path: string } }).config.path;
    try {
      // The kubelet swaps the file atomically (a new inode), a plain rewrite changes size or mtime.
      const s = await stat(path);
      const stamp = `${s.ino}:${s.size}:${s.mtimeMs}`;
      if (this.last?.stamp !== stamp) this.last = { stamp, token: (await readFile(path, 'utf8')).trim() };
    } catch (err) {
      throw new SpawnError(
        `no service account token at ${path}: ${(err as Error).message}`,
        'kubernetes_unconfigured',
      );
    }
    opts.headers = { ...opts.headers, Authorization: `Bearer ${this.last.token}` };
  }
}

/** The message of the Status object the API answers an error with, else its raw text. */
function statusMessage(body: unknown): string {
  if (typeof body !== 'string') return '';
  try {
    return String((JSON.parse(body) as { message?: unknown }).message ?? body);
  } catch {
    return body.trim();
  }
}

export class KubernetesSpawner implements ChildSpawner {
  readonly kind = 'kubernetes' as const;
  /** @internal */
  readonly batch: BatchV1Api;
  /** @internal */
  readonly core: CoreV1Api;
  /** @internal */
  readonly watcher: Watch;
  private namespace: string | undefined;
  private readonly paths: { token: string; ca: string; namespace: string };

  constructor(private readonly options: KubernetesSpawnerOptions) {
    this.namespace = options.namespace;
    this.paths = {
      token: options.tokenPath ?? join(SERVICE_ACCOUNT_DIR, 'token'),
      ca: options.caPath ?? join(SERVICE_ACCOUNT_DIR, 'ca.crt'),
      namespace: options.namespacePath ?? join(SERVICE_ACCOUNT_DIR, 'namespace'),
    };
    const config = new KubeConfig();
    config.addAuthenticator(new RotatingTokenFile());
    // The in-cluster shape of loadFromCluster(), which would read process.env and fixed paths instead of the settings.
    config.loadFromClusterAndUser(
      { name: 'inCluster', server: options.apiUrl, caFile: this.paths.ca, skipTLSVerify: false },
      { name: 'inClusterUser', authProvider: { name: TOKEN_PROVIDER, config: { path: this.paths.token } } },
    );
    this.batch = config.makeApiClient(BatchV1Api);
    this.core = config.makeApiClient(CoreV1Api);
    this.watcher = new Watch(config);
  }

  /** The Job manifest: exactly what the API is asked to create. */
  jobManifest(spec: ChildSpec, name: string): V1Job {
    const o = this.options;
    const labels = {
      [K8S_LABELS.name]: 'polyrole',
      [K8S_LABELS.component]: 'child',
      [K8S_LABELS.master]: o.masterName,
      [K8S_LABELS.childId]: dnsLabel('c', spec.id),
    };
    const env = { ...o.baseEnv, ...roleEnv(spec) };
    return {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name, labels },
      spec: {
        backoffLimit: 0,
        ttlSecondsAfterFinished: o.ttlSecondsAfterFinished,
        ...(o.activeDeadlineSeconds ? { activeDeadlineSeconds: o.activeDeadlineSeconds } : {}),
        template: {
          metadata: { labels },
          spec: {
            restartPolicy: 'Never',
            terminationGracePeriodSeconds: Math.ceil(o.stopGraceMs / 1000),
            containers: [
              {
                name: CONTAINER,
                image: o.image,
                env: Object.entries(env).map(([k, v]) => ({ name: k, value: v })),
                resources: {
                  limits: { cpu: o.cpuLimit, memory: o.memoryLimit },
                  requests: { cpu: o.cpuLimit, memory: o.memoryLimit },
                },
                ...(o.childSecret
                  ? { volumeMounts: [{ name: 'tls', mountPath: o.childSecret.mountPath, readOnly: true }] }
                  : {}),
              },
            ],
            ...(o.childSecret
              ? { volumes: [{ name: 'tls', secret: { secretName: o.childSecret.name, defaultMode: 0o440 } }] }
              : {}),
          },
        },
      },
    };
  }

  async spawn(spec: ChildSpec): Promise<ChildHandle> {
    const namespace = await this.ns(spec);
    const name = dnsLabel(this.options.namePrefix ?? 'polyrole-child', spec.id);
    const created = await this.call(spec, 'create', namespace, () =>
      this.batch.createNamespacedJob({ namespace, body: this.jobManifest(spec, name) }),
    );
    const labelSelector = `${K8S_LABELS.master}=${this.options.masterName},${K8S_LABELS.childId}=${dnsLabel('c', spec.id)}`;
    return new KubernetesChild(
      spec,
      name,
      namespace,
      created.metadata?.resourceVersion ?? '',
      labelSelector,
      this,
    );
  }

  /** @internal One API call, its failure turned into a SpawnError that says what went wrong. */
  async call<T>(spec: ChildSpec, step: string, namespace: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw this.failure(spec, step, namespace, err);
    }
  }

  /** @internal */
  get rewatchDelayMs(): number {
    return this.options.rewatchDelayMs ?? 1000;
  }

  /** @internal */
  sleep(ms: number): Promise<void> {
    // Unref'd: a watch retrying against an unreachable API must not keep the process alive.
    return this.options.sleep
      ? this.options.sleep(ms)
      : new Promise((resolve) => setTimeout(resolve, ms).unref());
  }

  /** @internal */
  get tailLines(): number {
    return this.options.tailLines ?? 50;
  }

  private failure(spec: ChildSpec, step: string, ns: string, err: unknown): Error {
    if (err instanceof AppError) return err;
    if (err instanceof ApiException) {
      const said = statusMessage(err.body);
      const suffix = said ? `: ${said}` : '';
      switch (err.code) {
        case 401:
          return new SpawnError(
            `the Kubernetes API refused the service account token (401)${suffix}`,
            'kubernetes_unauthorized',
          );
        case 403:
          return new SpawnError(
            `the service account may not ${step} Jobs in namespace ${ns} (403 Forbidden)${suffix}`,
            'kubernetes_forbidden',
          );
        case 409:
          return new SpawnError(
            `Kubernetes refused to ${step} the Job of child ${spec.id} (409 conflict)${suffix}`,
            'spawn_conflict',
          );
        case 422:
          return new SpawnError(
            `Kubernetes found the Job of child ${spec.id} invalid (422)${suffix}`,
            'spawn_invalid',
          );
        default:
          return new SpawnError(
            `the Kubernetes API answered ${err.code} when asked to ${step} the Job of child ${spec.id}${suffix}`,
          );
      }
    }
    // The library's HTTP client (undici) wraps a socket error in its cause ("fetch failed": ECONNREFUSED).
    const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
    const reason = e.code ?? e.cause?.code ?? e.cause?.message ?? e.message;
    // The library reads the CA file on each call; a missing one fails before anything is sent.
    if (e.path === this.paths.ca || e.cause?.path === this.paths.ca) {
      return new SpawnError(
        `no cluster CA certificate at ${this.paths.ca}: ${e.message}`,
        'kubernetes_unconfigured',
      );
    }
    return new SpawnError(
      `cannot reach the Kubernetes API at ${this.options.apiUrl} to ${step} the Job of child ${spec.id} (${reason})`,
      'kubernetes_unreachable',
    );
  }

  private async ns(spec: ChildSpec): Promise<string> {
    if (this.namespace) return this.namespace;
    try {
      this.namespace = (await readFile(this.paths.namespace, 'utf8')).trim();
    } catch (err) {
      throw new SpawnError(
        `cannot start child ${spec.id}: no namespace file at ${this.paths.namespace} (is the master running in a pod?): ${(err as Error).message}`,
        'kubernetes_unconfigured',
      );
    }
    return this.namespace;
  }
}

/**
 * The pod that ran the child to its end, among every pod of the Job (an evicted or replaced pod may be listed in
 * any order): the one whose child container terminated last. Pods whose container never ran are not candidates.
 */
function ranChild(pods: V1Pod[]): { pod: V1Pod; terminated: V1ContainerStateTerminated } | undefined {
  const ran = pods.flatMap((pod) => {
    const terminated = pod.status?.containerStatuses?.find((s) => s.name === CONTAINER)?.state?.terminated;
    return terminated ? [{ pod, terminated }] : [];
  });
  const finished = (t: V1ContainerStateTerminated) => t.finishedAt?.getTime() ?? 0;
  return ran.sort((a, b) => finished(a.terminated) - finished(b.terminated)).at(-1);
}

/** How one watch ended. */
type WatchEnd =
  | { kind: 'deleted' }
  | { kind: 'finished'; job: V1Job }
  /** The version watched from is older than the API keeps: list again. */
  | { kind: 'expired' }
  | { kind: 'closed'; events: number }
  | { kind: 'failed' };

interface WatchStatus {
  code?: number;
}

class KubernetesChild implements ChildHandle {
  private readonly tail: TailBuffer;
  private readonly exited: Promise<ChildExit>;
  private settle!: (exit: ChildExit) => void;
  private settled = false;
  private stopping = false;
  private closeWatch: (() => void) | undefined;

  constructor(
    private readonly spec: ChildSpec,
    readonly ref: string,
    private readonly ns: string,
    private resourceVersion: string,
    private readonly labelSelector: string,
    private readonly k8s: KubernetesSpawner,
  ) {
    this.tail = new TailBuffer();
    this.exited = new Promise((resolve) => {
      this.settle = (exit) => {
        if (this.settled) return;
        this.settled = true;
        this.closeWatch?.();
        resolve(exit);
      };
    });
    void this.follow().then((exit) => exit && this.settle(exit));
  }

  get id(): string {
    return this.spec.id;
  }

  wait(): Promise<ChildExit> {
    return this.exited;
  }

  stderrTail(): string {
    return this.tail.toString();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.k8s.call(this.spec, 'delete', this.ns, () =>
      this.k8s.batch
        .deleteNamespacedJob({ name: this.ref, namespace: this.ns, propagationPolicy: 'Background' })
        .catch((err: unknown) => {
          // Already gone (its TTL passed, or someone else deleted it): stopped all the same.
          if (!(err instanceof ApiException && err.code === 404)) throw err;
        }),
    );
    // Once the Job is gone there is nothing left to watch; the pod gets its grace period from the kubelet.
    this.settle(this.gone());
  }

  private gone(): ChildExit {
    return { exitCode: null, error: this.stopping ? 'stopped: its Job was deleted' : 'its Job was deleted' };
  }

  /**
   * Follows the Job until it completes, fails or disappears; a watch that ends or fails is opened again, from a
   * fresh list when its version expired. Resolves undefined when the child was settled otherwise (stopped).
   */
  private async follow(): Promise<ChildExit | undefined> {
    while (!this.settled) {
      try {
        if (!this.resourceVersion) {
          const list = await this.k8s.batch.listNamespacedJob({
            namespace: this.ns,
            fieldSelector: `metadata.name=${this.ref}`,
          });
          const job = list.items[0];
          if (!job) return this.gone();
          const done = await this.outcome(job);
          if (done) return done;
          this.resourceVersion = list.metadata?.resourceVersion ?? '';
        }
        const end = await this.watchOnce();
        if (end.kind === 'deleted') return this.gone();
        if (end.kind === 'finished') {
          const done = await this.outcome(end.job);
          if (done) return done;
        }
        if (end.kind === 'expired') this.resourceVersion = '';
        // A watch the server ends at once, again and again, must not turn into a busy loop.
        if (end.kind === 'failed' || (end.kind === 'closed' && end.events === 0)) {
          if (!this.settled) await this.k8s.sleep(this.k8s.rewatchDelayMs);
        }
      } catch {
        if (!this.settled) await this.k8s.sleep(this.k8s.rewatchDelayMs);
      }
    }
    return undefined;
  }

  /** One watch of the Job from the current version, until it ends or the Job reaches an end. */
  private watchOnce(): Promise<WatchEnd> {
    return new Promise<WatchEnd>((resolve) => {
      let ended = false;
      let events = 0;
      let abort: (() => void) | undefined;
      const end = (how: WatchEnd) => {
        if (ended) return;
        ended = true;
        this.closeWatch = undefined;
        abort?.();
        resolve(how);
      };
      this.closeWatch = () => end({ kind: 'failed' });
      this.k8s.watcher
        .watch(
          `/apis/batch/v1/namespaces/${this.ns}/jobs`,
          {
            fieldSelector: `metadata.name=${this.ref}`,
            resourceVersion: this.resourceVersion,
            allowWatchBookmarks: true,
          },
          (type: string, object: V1Job & WatchStatus) => {
            if (ended) return;
            events++;
            if (type === 'ERROR') return end(object.code === 410 ? { kind: 'expired' } : { kind: 'failed' });
            this.resourceVersion = object.metadata?.resourceVersion ?? this.resourceVersion;
            if (type === 'DELETED') return end({ kind: 'deleted' });
            if (type !== 'BOOKMARK' && terminal(object)) end({ kind: 'finished', job: object });
          },
          (err: unknown) => end(err ? { kind: 'failed' } : { kind: 'closed', events }),
        )
        .then(
          (controller) => {
            abort = () => controller.abort();
            if (ended) abort();
          },
          () => end({ kind: 'failed' }),
        );
    });
  }

  /** The exit of a finished Job (with its pod's exit code and log tail), or undefined while it runs. */
  private async outcome(job: V1Job): Promise<ChildExit | undefined> {
    const conditions = job.status?.conditions ?? [];
    const complete = conditions.find((c) => c.type === 'Complete' && c.status === 'True');
    const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
    if (!complete && !failed) return undefined;
    const pod = await this.finishedPod();
    if (complete) return { exitCode: pod?.exitCode ?? 0 };
    if (pod?.exitCode !== undefined) {
      // "Error" only restates a non-zero exit; reasons such as OOMKilled say something.
      const reason = pod.reason && pod.reason !== 'Error' ? { error: pod.reason } : {};
      return { exitCode: pod.exitCode, ...reason };
    }
    return {
      exitCode: null,
      error: [failed!.reason, failed!.message].filter(Boolean).join(': ') || 'Job failed',
    };
  }

  /** Best effort: the terminated container's exit code, and the pod's log into the tail. */
  private async finishedPod(): Promise<{ exitCode?: number; reason?: string } | undefined> {
    try {
      const pods = await this.k8s.core.listNamespacedPod({
        namespace: this.ns,
        labelSelector: this.labelSelector,
      });
      const ran = ranChild(pods.items);
      if (!ran) return undefined;
      const { pod, terminated } = ran;
      try {
        this.tail.push(
          await this.k8s.core.readNamespacedPodLog({
            name: pod.metadata!.name!,
            namespace: this.ns,
            container: CONTAINER,
            tailLines: this.k8s.tailLines,
          }),
        );
      } catch {
        // The exit code stands without its log (the pod may already be gone).
      }
      return { exitCode: terminated.exitCode, reason: terminated.reason };
    } catch {
      return undefined;
    }
  }
}

function terminal(job: V1Job): boolean {
  return (job.status?.conditions ?? []).some(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
}
