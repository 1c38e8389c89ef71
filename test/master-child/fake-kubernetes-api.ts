// A local stand-in for the Kubernetes API over HTTPS, for the calls the kubernetes spawner makes: create, list,
// watch and delete batch/v1 Jobs, list pods by label and read a pod's log. Like the real API server it serves a
// certificate signed by the cluster CA (for 127.0.0.1), checks the bearer token, streams watches as
// newline-delimited JSON events, answers a watch from a compacted version with an ERROR event carrying a 410
// Status, and deletes a Job's pods only with Background or Foreground propagation (batch/v1 orphans them by
// default). It records every request and lets a spec finish a Job, end watches, or answer with an error Status.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type KeyPair, makeCa } from '../../src/roles/certs/role-certs.js';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: any;
}

interface FakeJob {
  object: any;
  /** The pod that ran the child first; other pods of the Job (evicted, replaced) after it. */
  pods: any[];
  log?: string;
}

/** A pod of a Job other than the one that ran the child: evicted before it started, or an earlier attempt. */
export type StrayPod = { evicted: true } | { exitCode: number; finishedAt: string };

/** A cluster CA and the API server's serving certificate for 127.0.0.1, made with openssl in `dir`. */
export function makeClusterCerts(dir: string): { ca: KeyPair; server: KeyPair } {
  const ca = makeCa(dir, 'cluster-ca');
  const server = { cert: join(dir, 'apiserver.pem'), key: join(dir, 'apiserver-key.pem') };
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '30',
    '-subj', '/CN=kube-apiserver', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:kubernetes.default.svc',
    '-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'extendedKeyUsage=serverAuth',
    '-CA', ca.cert, '-CAkey', ca.key, '-keyout', server.key, '-out', server.cert,
  ], { stdio: ['ignore', 'ignore', 'pipe'] }); // prettier-ignore
  return { ca, server };
}

export class FakeKubernetesApi {
  readonly requests: RecordedRequest[] = [];
  readonly jobs = new Map<string, FakeJob>();
  /** Secrets by name (the certs Job's reads and creates). */
  readonly secrets = new Map<string, any>();
  /** The DeleteOptions each Job was deleted with (from the body, else from the query, as the API server reads them). */
  readonly deletions = new Map<string, { propagationPolicy?: string }>();
  /** Pods the API still has after their Job was deleted without propagation. */
  readonly orphans: any[] = [];
  /** The next create answers with this Status instead of creating. */
  rejectCreate: { code: number; reason: string; message: string } | undefined;
  private resourceVersion = 100;
  /** Versions at or below this were compacted away: watching from them answers 410 Expired. */
  private compacted = 0;
  private readonly watchers = new Set<{ name: string; res: ServerResponse }>();
  private readonly server: https.Server;

  constructor(
    readonly token: string,
    readonly namespace: string,
    serving: KeyPair,
  ) {
    this.server = https.createServer(
      { cert: readFileSync(serving.cert), key: readFileSync(serving.key) },
      (req, res) => void this.handle(req, res),
    );
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get url(): string {
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  get watchCount(): number {
    return this.watchers.size;
  }

  /** The pods the API lists for a Job (its own, or orphaned after it was deleted). */
  podsOf(name: string): any[] {
    const own = this.jobs.get(name)?.pods ?? [];
    return [...own, ...this.orphans.filter((p) => p.metadata.labels['job-name'] === name)];
  }

  /** Finishes a Job the way the Job controller would: a terminated pod, then the terminal condition. */
  finish(
    name: string,
    outcome: { exitCode: number; log?: string; reason?: string; strayPods?: StrayPod[] },
  ): void {
    const job = this.jobs.get(name)!;
    const labels = job.pods[0].metadata.labels;
    const terminated = (exitCode: number, finishedAt: string, reason?: string) => [
      {
        name: 'child',
        state: {
          terminated: { exitCode, finishedAt, reason: reason ?? (exitCode === 0 ? 'Completed' : 'Error') },
        },
      },
    ];
    // Listed after the pod that ran the child, as the API's name order may well put them.
    const strays = (outcome.strayPods ?? []).map((p, i) => ({
      metadata: { name: `${name}-zz${i}`, labels },
      status:
        'evicted' in p
          ? { phase: 'Failed', reason: 'Evicted', containerStatuses: [] }
          : { phase: 'Failed', containerStatuses: terminated(p.exitCode, p.finishedAt) },
    }));
    job.pods = [
      {
        metadata: job.pods[0].metadata,
        status: {
          phase: outcome.exitCode === 0 ? 'Succeeded' : 'Failed',
          containerStatuses: terminated(outcome.exitCode, new Date().toISOString(), outcome.reason),
        },
      },
      ...strays,
    ];
    job.log = outcome.log ?? '';
    const type = outcome.exitCode === 0 ? 'Complete' : 'Failed';
    this.update(name, {
      conditions: [{ type, status: 'True', reason: type === 'Failed' ? 'BackoffLimitExceeded' : undefined }],
    });
  }

  /** Fails a Job without a pod result (e.g. its deadline passed). */
  failWithoutPod(name: string, reason: string, message: string): void {
    this.update(name, { conditions: [{ type: 'Failed', status: 'True', reason, message }] });
  }

  /** Ends every open watch, as an API server does when a watch times out. */
  endWatches(): void {
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
  }

  /**
   * Other objects of the cluster changed and the history up to now was compacted, as etcd does: every open watch
   * ends, and a watch from any version before now answers 410 Expired.
   */
  compact(): void {
    this.compacted = ++this.resourceVersion;
    this.endWatches();
  }

  private update(name: string, status: any): void {
    const job = this.jobs.get(name)!;
    job.object = {
      ...job.object,
      status,
      metadata: { ...job.object.metadata, resourceVersion: String(++this.resourceVersion) },
    };
    this.notify(name, 'MODIFIED', job.object);
  }

  private notify(name: string, type: string, object: any): void {
    for (const w of this.watchers) if (w.name === name) w.res.write(`${JSON.stringify({ type, object })}\n`);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    this.requests.push({
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      body: text ? JSON.parse(text) : undefined,
    });
    if (req.headers.authorization !== `Bearer ${this.token}`)
      return status(res, 401, 'Unauthorized', 'Unauthorized');
    const url = new URL(req.url ?? '', 'https://k8s');
    const jobsPath = `/apis/batch/v1/namespaces/${this.namespace}/jobs`;
    const podsPath = `/api/v1/namespaces/${this.namespace}/pods`;
    const secretsPath = `/api/v1/namespaces/${this.namespace}/secrets`;
    if (req.method === 'POST' && url.pathname === secretsPath) {
      const body = JSON.parse(text);
      const name = body.metadata.name;
      if (this.secrets.has(name))
        return status(res, 409, 'AlreadyExists', `secrets "${name}" already exists`);
      const object = { ...body, metadata: { ...body.metadata, namespace: this.namespace } };
      this.secrets.set(name, object);
      return json(res, 201, object);
    }
    if (req.method === 'GET' && url.pathname.startsWith(`${secretsPath}/`)) {
      const name = url.pathname.slice(secretsPath.length + 1);
      const secret = this.secrets.get(name);
      return secret ? json(res, 200, secret) : status(res, 404, 'NotFound', `secrets "${name}" not found`);
    }
    const jobName = url.pathname.startsWith(`${jobsPath}/`)
      ? url.pathname.slice(jobsPath.length + 1)
      : undefined;

    if (req.method === 'POST' && url.pathname === jobsPath) {
      if (this.rejectCreate) {
        const r = this.rejectCreate;
        this.rejectCreate = undefined;
        return status(res, r.code, r.reason, r.message);
      }
      const body = JSON.parse(text);
      const name = body.metadata.name;
      if (this.jobs.has(name))
        return status(res, 409, 'AlreadyExists', `jobs.batch "${name}" already exists`);
      const object = {
        ...body,
        metadata: {
          ...body.metadata,
          namespace: this.namespace,
          resourceVersion: String(++this.resourceVersion),
        },
        status: {},
      };
      // The Job controller starts the pod at once; it runs until a spec finishes the Job.
      const pod = {
        metadata: {
          name: `${name}-abcde`,
          labels: { ...body.spec.template.metadata.labels, 'job-name': name },
        },
        status: { phase: 'Running', containerStatuses: [{ name: 'child', state: { running: {} } }] },
      };
      this.jobs.set(name, { object, pods: [pod] });
      return json(res, 201, object);
    }
    if (req.method === 'GET' && url.pathname === jobsPath && url.searchParams.get('watch') === 'true') {
      const name = (url.searchParams.get('fieldSelector') ?? '').replace(/^metadata\.name=/, '');
      const job = this.jobs.get(name);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      const from = Number(url.searchParams.get('resourceVersion') || 0);
      if (from < this.compacted) {
        const expired = statusObject(410, 'Expired', `too old resource version: ${from} (${this.compacted})`);
        return void res.end(`${JSON.stringify({ type: 'ERROR', object: expired })}\n`);
      }
      if (job && Number(job.object.metadata.resourceVersion) > from)
        res.write(`${JSON.stringify({ type: 'MODIFIED', object: job.object })}\n`);
      const watcher = { name, res };
      this.watchers.add(watcher);
      res.on('close', () => this.watchers.delete(watcher));
      return;
    }
    if (req.method === 'GET' && url.pathname === jobsPath) {
      const name = (url.searchParams.get('fieldSelector') ?? '').replace(/^metadata\.name=/, '');
      const items = [...this.jobs.values()]
        .map((j) => j.object)
        .filter((o) => !name || o.metadata.name === name);
      return json(res, 200, {
        kind: 'JobList',
        apiVersion: 'batch/v1',
        metadata: { resourceVersion: String(this.resourceVersion) },
        items,
      });
    }
    if (jobName && req.method === 'DELETE') {
      const job = this.jobs.get(jobName);
      if (!job) return status(res, 404, 'NotFound', `jobs.batch "${jobName}" not found`);
      const options = text ? JSON.parse(text) : Object.fromEntries(url.searchParams);
      this.jobs.delete(jobName);
      this.deletions.set(jobName, { propagationPolicy: options.propagationPolicy });
      if (!['Background', 'Foreground'].includes(options.propagationPolicy)) this.orphans.push(...job.pods);
      this.resourceVersion++;
      this.notify(jobName, 'DELETED', job.object);
      return json(res, 200, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Success',
        details: { name: jobName, group: 'batch', kind: 'jobs' },
      });
    }
    if (req.method === 'GET' && url.pathname === podsPath) {
      const selector = Object.fromEntries(
        (url.searchParams.get('labelSelector') ?? '').split(',').map((kv) => kv.split('=')),
      );
      const items = [...[...this.jobs.values()].flatMap((j) => j.pods), ...this.orphans].filter((p) =>
        Object.entries(selector).every(([k, v]) => p.metadata.labels[k] === v),
      );
      return json(res, 200, {
        kind: 'PodList',
        apiVersion: 'v1',
        metadata: { resourceVersion: String(this.resourceVersion) },
        items,
      });
    }
    const log = /^\/api\/v1\/namespaces\/[^/]+\/pods\/([^/]+)\/log$/.exec(url.pathname);
    if (req.method === 'GET' && log) {
      const job = [...this.jobs.values()].find((j) => j.pods[0]?.metadata.name === log[1]);
      if (!job) return status(res, 404, 'NotFound', `pods "${log[1]}" not found`);
      return void res.writeHead(200, { 'content-type': 'text/plain' }).end(job.log ?? '');
    }
    return status(res, 404, 'NotFound', `the server could not find the requested resource`);
  }
}

function json(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function statusObject(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  json(res, code, statusObject(code, reason, message));
}
