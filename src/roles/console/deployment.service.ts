// What the console shows about the deployment: every role of the role table, the processes that host them (this
// one and CONSOLE_TARGETS), each one's /about, /health/ready and RPC metrics, and the call edges with their state
// and rates. Everything is read on demand from the roles' existing operations endpoints, each fetch bounded, so
// the console adds no work to request handling; a role that does not answer is shown as down.
import { Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { BootContext } from '../../platform/boot-context.js';
import type { PeerState } from '../../platform/transport/rpc-hub.js';
import {
  ALL_ROLES,
  ROLE_NAMES,
  ROLE_TABLE,
  type PartName,
  type RoleName,
  type RoleSpec,
} from '../role-table.js';
import { consoleSettings } from './console.settings.js';
import { parseRpcSeries, rpcWindow, type RpcSeries, type RpcWindow } from './rpc-metrics.util.js';

/** Snapshots younger than this are shared between viewers, so many open pages cost the roles no more. */
const SHARE_MS = 1000;
/** Rates are taken over at least this long a window when readings that old exist. */
const WINDOW_MS = 4000;
const KEEP_MS = 30_000;

/** What a role's GET /about answers (operations.controller.ts). */
interface About {
  role: string;
  roles: string[];
  modules: string[];
  peers: PeerState[];
  version: string;
  uptimeS: number;
}

export interface HealthCheckView {
  name: string;
  status: string;
  details: Record<string, unknown>;
}

export interface NodeView {
  url: string;
  self: boolean;
  up: boolean;
  error?: string;
  roles: string[];
  modules: string[];
  version?: string;
  uptimeS?: number;
  health: { status: string; checks: HealthCheckView[]; checkedAt: string } | null;
}

export type EdgeState = 'up' | 'down' | 'connecting' | 'in-process' | 'job';

export interface EdgeView extends RpcWindow {
  from: RoleName;
  to: RoleName;
  /** rpc: typed client over Nest TCP (or in-process); spawn: the master starts children; raw: raw TCP. */
  kind: 'rpc' | 'spawn' | 'raw';
  state: EdgeState;
}

export interface RoleView {
  name: RoleName;
  parts: readonly PartName[];
  listeners: readonly string[];
  calls: readonly string[];
  job: boolean;
  state: 'up' | 'down' | 'job';
  node: string | null;
}

export interface DeploymentView {
  generatedAt: string;
  self: string;
  roles: RoleView[];
  nodes: NodeView[];
  edges: EdgeView[];
}

interface Reading {
  at: number;
  series: RpcSeries[];
}

interface NodeReading {
  node: NodeView;
  series?: RpcSeries[];
}

export function roleHost(role: string): string {
  return `http://${role}:3000`;
}

@Injectable()
export class DeploymentService {
  private readonly settings;
  private shared?: { at: number; view: Promise<DeploymentView> };
  private readonly readings = new Map<string, Reading[]>();

  constructor(
    private readonly boot: BootContext,
    private readonly http: HttpAdapterHost,
  ) {
    this.settings = boot.settings(consoleSettings);
  }

  /** This process's own HTTP base URL, as bound. */
  selfUrl(): string {
    const address = this.http.httpAdapter.getHttpServer().address() as AddressInfo | null;
    const host = !address || ['0.0.0.0', '::'].includes(address.address) ? '127.0.0.1' : address.address;
    const port = address?.port ?? this.boot.platform.httpPort;
    return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }

  /** The other processes: CONSOLE_TARGETS, or http://<role>:3000 for every role not booted here. */
  targets(): string[] {
    if (this.settings.targets) return this.settings.targets;
    return ALL_ROLES.filter((r) => !this.boot.roles.includes(r)).map(roleHost);
  }

  /** Headers for fetching another role's operations endpoints: the console token, when there is one. */
  authHeaders(): Record<string, string> {
    const token = this.boot.platform.consoleToken;
    return token ? { authorization: `Bearer ${token}` } : {};
  }

  /**
   * The console's reads are not traced: an unsampled W3C trace context tells each role's edge (parent-based
   * sampling) to record nothing for them or the work they cause, so polling every 2 s does not fill the span rings.
   */
  untracedHeaders(): Record<string, string> {
    return { traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-00` };
  }

  /**
   * One bounded request to a role's HTTP API. This process answers its own through Fastify's inject (no socket,
   * so nothing is left open at shutdown); other roles over HTTP.
   */
  async request(
    base: string,
    path: string,
    init: { method?: string; body?: unknown; traced?: boolean } = {},
  ): Promise<{ status: number; contentType: string; text: string }> {
    const method = init.method ?? 'GET';
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...this.authHeaders(),
      ...(init.traced ? {} : this.untracedHeaders()),
    };
    const payload = init.body === undefined ? undefined : JSON.stringify(init.body);
    if (base === this.selfUrl()) {
      const fastify = this.http.httpAdapter.getInstance<FastifyInstance>();
      const res = await within(
        this.settings.fetchTimeoutMs,
        fastify.inject({ method: method as 'GET', url: path, headers, payload }),
      );
      return {
        status: res.statusCode,
        contentType: String(res.headers['content-type'] ?? ''),
        text: res.body,
      };
    }
    const res = await fetch(`${base}${path}`, {
      method,
      headers,
      body: payload,
      signal: AbortSignal.timeout(this.settings.fetchTimeoutMs),
    });
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text() };
  }

  async fetchJson<T>(base: string, path: string): Promise<{ status: number; body: T }> {
    const res = await this.request(base, path);
    return { status: res.status, body: JSON.parse(res.text) as T };
  }

  get fetchTimeoutMs(): number {
    return this.settings.fetchTimeoutMs;
  }

  view(): Promise<DeploymentView> {
    const now = Date.now();
    if (!this.shared || now - this.shared.at >= SHARE_MS) {
      const view = this.build();
      this.shared = { at: now, view };
      view.catch(() => (this.shared = undefined));
    }
    return this.shared.view;
  }

  private async build(): Promise<DeploymentView> {
    const self = this.selfUrl();
    const urls = [self, ...this.targets().filter((u) => u !== self)];
    const readings = await Promise.all(urls.map((u) => this.read(u, u === self)));
    const nodes = readings.map((r) => r.node);
    const hostOf = (role: string) => nodes.find((n) => n.up && n.roles.includes(role));
    const roles = ROLE_NAMES.map((name): RoleView => {
      const spec: RoleSpec = ROLE_TABLE[name];
      const node = hostOf(name);
      return {
        name,
        parts: spec.parts,
        listeners: ['http', ...spec.listeners.filter((l) => l !== 'http')],
        calls: spec.calls,
        job: spec.job === true,
        state: spec.job ? 'job' : node ? 'up' : 'down',
        node: node?.url ?? null,
      };
    });
    const now = Date.now();
    const windows = new Map<string, { now: RpcSeries[]; before?: RpcSeries[]; seconds: number }>();
    for (const r of readings) {
      if (!r.series) continue;
      const history = this.readings.get(r.node.url) ?? [];
      const before = history.find((h) => now - h.at >= WINDOW_MS) ?? history[0];
      history.unshift({ at: now, series: r.series });
      this.readings.set(
        r.node.url,
        history.filter((h) => now - h.at <= KEEP_MS),
      );
      windows.set(r.node.url, {
        now: r.series,
        before: before?.series,
        seconds: before ? (now - before.at) / 1000 : process.uptime(),
      });
    }
    const edges: EdgeView[] = [];
    for (const from of ROLE_NAMES) {
      for (const to of ROLE_TABLE[from].calls as readonly RoleName[]) {
        edges.push(this.edge(from, to, hostOf(from), hostOf(to), readings, windows));
      }
    }
    return { generatedAt: new Date(now).toISOString(), self, roles, nodes, edges };
  }

  private edge(
    from: RoleName,
    to: RoleName,
    fromNode: NodeView | undefined,
    toNode: NodeView | undefined,
    readings: NodeReading[],
    windows: Map<string, { now: RpcSeries[]; before?: RpcSeries[]; seconds: number }>,
  ): EdgeView {
    const kind: EdgeView['kind'] = from === 'master' ? 'spawn' : from === 'echo-client' ? 'raw' : 'rpc';
    const targetParts = ROLE_TABLE[to].parts as readonly string[];
    const ofTarget = (s: RpcSeries) => targetParts.includes(s.pattern.split('.')[0]);
    // A job (a child, the echo client) has no console of its own: its calls are counted where they arrive.
    const counted = fromNode
      ? { node: fromNode, filter: (s: RpcSeries) => s.side === 'client' && ofTarget(s) }
      : toNode
        ? { node: toNode, filter: (s: RpcSeries) => s.side === 'server' && ofTarget(s) }
        : undefined;
    const w = counted ? windows.get(counted.node.url) : undefined;
    const rates = w
      ? rpcWindow(w.now, w.before, w.seconds, counted!.filter)
      : { callsPerS: 0, p50Ms: null, p99Ms: null, errorRate: null };
    let state: EdgeState;
    if (kind === 'spawn') state = fromNode ? 'job' : 'down';
    else if ((ROLE_TABLE[from] as RoleSpec).job) state = toNode ? 'job' : 'down';
    else if (!fromNode) state = 'down';
    else if (toNode && toNode.url === fromNode.url) state = 'in-process';
    else {
      const about = readings.find((r) => r.node.url === fromNode.url)?.node;
      const peer = (about as (NodeView & { peers?: PeerState[] }) | undefined)?.peers?.find(
        (p) => p.role === to,
      );
      state = !peer
        ? 'down'
        : peer.up
          ? 'up'
          : peer.connections.some((c) => c.state === 'connecting')
            ? 'connecting'
            : 'down';
    }
    return { from, to, kind, state, ...rates };
  }

  private async read(url: string, self: boolean): Promise<NodeReading> {
    const [about, health, metrics] = await Promise.allSettled([
      this.fetchJson<About>(url, '/about'),
      this.fetchJson<Record<string, unknown>>(url, '/health/ready'),
      this.request(url, '/metrics').then((r) =>
        r.status === 200 ? r.text : Promise.reject(new Error(`metrics answered ${r.status}`)),
      ),
    ]);
    if (about.status === 'rejected' || about.value.status !== 200) {
      const why = about.status === 'rejected' ? errorText(about.reason) : `answered ${about.value.status}`;
      return {
        node: { url, self, up: false, error: why, roles: [], modules: [], health: null },
      };
    }
    const a = about.value.body;
    const node: NodeView & { peers: PeerState[] } = {
      url,
      self,
      up: true,
      roles: a.roles,
      modules: a.modules,
      version: a.version,
      uptimeS: a.uptimeS,
      peers: a.peers ?? [],
      health: health.status === 'fulfilled' ? healthView(health.value.body) : null,
    };
    return { node, series: metrics.status === 'fulfilled' ? parseRpcSeries(metrics.value) : undefined };
  }
}

function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error('no answer in time'), { name: 'TimeoutError' })),
      ms,
    );
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function errorText(e: unknown): string {
  const err = e as Error & { cause?: { code?: string } };
  if (err?.name === 'TimeoutError') return 'no answer in time';
  return err?.cause?.code ?? err?.message ?? String(e);
}

/** Terminus' report ({ status, info, error, details }) as a list of checks. */
export function healthView(report: Record<string, unknown>): NonNullable<NodeView['health']> {
  const details = (report.details ?? {}) as Record<string, Record<string, unknown>>;
  return {
    status: String(report.status ?? 'unknown'),
    checkedAt: new Date().toISOString(),
    checks: Object.entries(details).map(([name, d]) => {
      const { status, ...rest } = d ?? {};
      return { name, status: String(status ?? 'unknown'), details: rest };
    }),
  };
}
