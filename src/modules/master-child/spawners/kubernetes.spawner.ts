// Starts each child as a batch/v1 Job through the in-cluster Kubernetes API with the pod's service account:
// backoffLimit 0 (a child is not retried), ttlSecondsAfterFinished, labels naming the master, resource limits.
// It watches the Job (re-listing when a watch ends), reads the pod's exit code and log tail when it finishes,
// and deletes the Job (Background propagation) to stop it.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
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
import {
  type HttpCall,
  HttpConnectionError,
  type HttpEndpoint,
  httpRequest,
  type HttpResult,
  httpStream,
} from './http.util.js';

export interface KubernetesSpawnerOptions {
  /** The API server: https://host:port in a cluster (see kubernetesApiUrl); plain http is accepted (tests). */
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

const CONTAINER = 'child';

export function kubernetesApiUrl(host: string, port: number): string {
  return `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

interface JobObject {
  metadata?: { name?: string; resourceVersion?: string };
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

interface StatusObject {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
}

export class KubernetesSpawner implements ChildSpawner {
  readonly kind = 'kubernetes' as const;
  private namespace: string | undefined;
  private ca: Buffer | undefined;
  private readonly paths: { token: string; ca: string; namespace: string };

  constructor(private readonly options: KubernetesSpawnerOptions) {
    this.namespace = options.namespace;
    this.paths = {
      token: options.tokenPath ?? join(SERVICE_ACCOUNT_DIR, 'token'),
      ca: options.caPath ?? join(SERVICE_ACCOUNT_DIR, 'ca.crt'),
      namespace: options.namespacePath ?? join(SERVICE_ACCOUNT_DIR, 'namespace'),
    };
  }

  /** The Job manifest: exactly what the API is asked to create. */
  jobManifest(spec: ChildSpec, name: string): Record<string, unknown> {
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
    const ns = await this.ns(spec);
    const name = dnsLabel(this.options.namePrefix ?? 'polyrole-child', spec.id);
    const created = await this.call(spec, 'create', {
      method: 'POST',
      path: `/apis/batch/v1/namespaces/${ns}/jobs`,
      body: this.jobManifest(spec, name),
    });
    if (created.status !== 201 && created.status !== 200) throw this.answerError(spec, 'create', ns, created);
    const rv = (created.json as JobObject).metadata?.resourceVersion ?? '';
    const labelSelector = `${K8S_LABELS.master}=${this.options.masterName},${K8S_LABELS.childId}=${dnsLabel('c', spec.id)}`;
    return new KubernetesChild(spec, name, ns, rv, labelSelector, this);
  }

  /** @internal A call to the API with the current service-account token. */
  async api(call: HttpCall): Promise<HttpResult> {
    return httpRequest(await this.endpoint(), {
      ...call,
      headers: { ...call.headers, ...(await this.auth()) },
    });
  }

  /** @internal A streaming call (watch). */
  async apiStream(call: HttpCall) {
    return httpStream(await this.endpoint(), {
      ...call,
      headers: { ...call.headers, ...(await this.auth()) },
    });
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

  /** @internal */
  answerError(spec: ChildSpec, step: string, ns: string, res: HttpResult): SpawnError {
    const status = res.json as StatusObject | undefined;
    const said = status?.message ?? res.text.trim();
    switch (res.status) {
      case 401:
        return new SpawnError(
          `the Kubernetes API refused the service account token (401): ${said}`,
          'kubernetes_unauthorized',
        );
      case 403:
        return new SpawnError(
          `the service account may not ${step} Jobs in namespace ${ns} (403 Forbidden): ${said}`,
          'kubernetes_forbidden',
        );
      case 409:
        return new SpawnError(
          `Kubernetes refused to ${step} the Job of child ${spec.id} (409 conflict): ${said}`,
          'spawn_conflict',
        );
      case 422:
        return new SpawnError(
          `Kubernetes found the Job of child ${spec.id} invalid (422): ${said}`,
          'spawn_invalid',
        );
      default:
        return new SpawnError(
          `the Kubernetes API answered ${res.status} when asked to ${step} the Job of child ${spec.id}: ${said}`,
        );
    }
  }

  private async call(spec: ChildSpec, step: string, call: HttpCall): Promise<HttpResult> {
    try {
      return await this.api(call);
    } catch (err) {
      if (err instanceof AppError) throw err;
      const reason = err instanceof HttpConnectionError ? err.code : (err as Error).message;
      throw new SpawnError(
        `cannot reach the Kubernetes API at ${this.options.apiUrl} to ${step} the Job of child ${spec.id} (${reason})`,
        'kubernetes_unreachable',
      );
    }
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

  private async endpoint(): Promise<HttpEndpoint> {
    if (this.options.apiUrl.startsWith('https:') && !this.ca) {
      try {
        this.ca = await readFile(this.paths.ca);
      } catch (err) {
        throw new SpawnError(
          `no cluster CA certificate at ${this.paths.ca}: ${(err as Error).message}`,
          'kubernetes_unconfigured',
        );
      }
    }
    return { baseUrl: this.options.apiUrl, ca: this.ca };
  }

  /** The token is read on every call: projected service-account tokens are rotated on disk. */
  private async auth(): Promise<Record<string, string>> {
    let token: string;
    try {
      token = (await readFile(this.paths.token, 'utf8')).trim();
    } catch (err) {
      throw new SpawnError(
        `no service account token at ${this.paths.token}: ${(err as Error).message}`,
        'kubernetes_unconfigured',
      );
    }
    return { authorization: `Bearer ${token}` };
  }
}

interface Terminated {
  exitCode: number;
  reason?: string;
  finishedAt?: string;
}

/**
 * The pod that ran the child to its end, among every pod of the Job (an evicted or replaced pod may be listed in
 * any order): the one whose child container terminated last. Pods whose container never ran are not candidates.
 */
function ranChild(pods: any[]): { pod: any; terminated: Terminated } | undefined {
  const ran = pods.flatMap((pod) => {
    const terminated = (pod.status?.containerStatuses ?? []).find((s: any) => s.name === CONTAINER)?.state
      ?.terminated as Terminated | undefined;
    return terminated ? [{ pod, terminated }] : [];
  });
  const finished = (t: Terminated) => Date.parse(t.finishedAt ?? '') || 0;
  return ran.sort((a, b) => finished(a.terminated) - finished(b.terminated)).at(-1);
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
    void this.watch().then((exit) => exit && this.settle(exit));
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
    const res = await this.k8s.api({
      method: 'DELETE',
      path: `${this.jobsPath()}/${this.ref}`,
      body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' },
    });
    if (res.status !== 200 && res.status !== 202 && res.status !== 404) {
      throw this.k8s.answerError(this.spec, 'delete', this.ns, res);
    }
    // Once the Job is gone there is nothing left to watch; the pod gets its grace period from the kubelet.
    this.settle(this.gone());
  }

  private jobsPath(): string {
    return `/apis/batch/v1/namespaces/${this.ns}/jobs`;
  }

  private gone(): ChildExit {
    return { exitCode: null, error: this.stopping ? 'stopped: its Job was deleted' : 'its Job was deleted' };
  }

  /**
   * Follows the Job until it completes, fails or disappears; a watch that ends or fails is opened again.
   * Resolves undefined when the child was settled otherwise (stopped).
   */
  private async watch(): Promise<ChildExit | undefined> {
    while (!this.settled) {
      try {
        if (!this.resourceVersion) {
          const res = await this.k8s.api({ method: 'GET', path: `${this.jobsPath()}/${this.ref}` });
          if (res.status === 404) return this.gone();
          if (res.status !== 200) throw new Error(`GET job answered ${res.status}`);
          const job = res.json as JobObject;
          const done = await this.outcome(job);
          if (done) return done;
          this.resourceVersion = job.metadata?.resourceVersion ?? '';
        }
        const query = new URLSearchParams({
          watch: 'true',
          fieldSelector: `metadata.name=${this.ref}`,
          resourceVersion: this.resourceVersion,
          allowWatchBookmarks: 'true',
        });
        const stream = await this.k8s.apiStream({ method: 'GET', path: `${this.jobsPath()}?${query}` });
        this.closeWatch = stream.close;
        if (this.settled) stream.close();
        if (stream.status === 410) this.resourceVersion = '';
        if (stream.status !== 200) {
          stream.close();
          if (stream.status !== 410) await this.k8s.sleep(this.k8s.rewatchDelayMs);
          continue;
        }
        let events = 0;
        const lines = createInterface({ input: stream.response, crlfDelay: Infinity });
        // readline re-emits its input's errors; closing the watch from this side is one of them.
        lines.on('error', () => {});
        for await (const line of lines) {
          if (!line.trim()) continue;
          events++;
          const event = JSON.parse(line) as { type: string; object: JobObject & StatusObject };
          if (event.type === 'ERROR') {
            if (event.object.code === 410) this.resourceVersion = '';
            break;
          }
          this.resourceVersion = event.object.metadata?.resourceVersion ?? this.resourceVersion;
          if (event.type === 'DELETED') return this.gone();
          const done = await this.outcome(event.object);
          if (done) return done;
        }
        stream.close();
        // A watch the server ends at once, again and again, must not turn into a busy loop.
        if (events === 0) await this.k8s.sleep(this.k8s.rewatchDelayMs);
      } catch {
        if (!this.settled) await this.k8s.sleep(this.k8s.rewatchDelayMs);
      }
    }
    return undefined;
  }

  /** The exit of a finished Job (with its pod's exit code and log tail), or undefined while it runs. */
  private async outcome(job: JobObject): Promise<ChildExit | undefined> {
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
      const query = new URLSearchParams({ labelSelector: this.labelSelector });
      const res = await this.k8s.api({ method: 'GET', path: `/api/v1/namespaces/${this.ns}/pods?${query}` });
      const pods = (res.json as { items?: any[] } | undefined)?.items ?? [];
      const ran = ranChild(pods);
      if (!ran) return undefined;
      const { pod, terminated } = ran;
      const logs = await this.k8s.api({
        method: 'GET',
        path: `/api/v1/namespaces/${this.ns}/pods/${pod.metadata.name}/log?container=${CONTAINER}&tailLines=${this.k8s.tailLines}`,
        headers: { accept: 'text/plain' },
      });
      if (logs.status === 200) this.tail.push(logs.text);
      return { exitCode: terminated.exitCode, reason: terminated.reason };
    } catch {
      return undefined;
    }
  }
}
