// The console's traces: every process's GET /spans, read the way the deployment view reads /about (bounded, on
// demand), joined by trace id across roles. A trace's waterfall also takes in the traces linked to it (work that ran
// later, such as the outbox's delivery) so one payment reads as one picture.
import { Injectable } from '@nestjs/common';
import { isOperations, type SpanRecord } from '../../platform/tracing/span-ring.js';
import { ROLE_TABLE, type RoleName } from '../role-table.js';
import { DeploymentService } from './deployment.service.js';
import type { SpansView } from './spans.controller.js';

/** Spans read from each process for the lists. */
const LIST_SPANS = 500;
/** Spans read from each process for one trace. */
const TRACE_SPANS = 2000;
const LISTED = 20;
/** Linked traces taken into one waterfall. */
const LINKED = 8;

export interface TraceSummary {
  traceId: string;
  /** The root's name (the first span without a parent among those kept), or the matched call's name for an edge. */
  name: string;
  roles: string[];
  startUs: number;
  durationUs: number;
  spans: number;
  error: boolean;
}

export interface TraceLists {
  /** Set when the lists are one call edge's: its slowest calls, matched by RPC method on both sides. */
  edge?: { from: RoleName; to: RoleName; methods: string[] };
  tracing: boolean;
  recent: TraceSummary[];
  slowest: TraceSummary[];
  errors: string[];
}

export interface TraceView {
  traceId: string;
  spans: SpanRecord[];
  /** Processes that did not answer: their spans are missing from the picture. */
  errors: string[];
}

export function summarize(traceId: string, spans: SpanRecord[], name?: string): TraceSummary {
  const ids = new Set(spans.map((s) => s.spanId));
  const byStart = [...spans].sort((a, b) => a.startUs - b.startUs);
  const root = byStart.find((s) => s.traceId === traceId && (!s.parentSpanId || !ids.has(s.parentSpanId)));
  const start = byStart[0]?.startUs ?? 0;
  const end = Math.max(...spans.map((s) => s.startUs + s.durationUs));
  return {
    traceId,
    name: name ?? root?.name ?? byStart[0]?.name ?? traceId,
    roles: [...new Set(byStart.map((s) => s.role))],
    startUs: start,
    durationUs: end - start,
    spans: spans.length,
    error: spans.some((s) => s.status.code === 'error'),
  };
}

/** A trace started by a request to an operations endpoint: the console's own reads, readiness, metrics. */
function isOperationsTrace(spans: SpanRecord[]): boolean {
  const ids = new Set(spans.map((s) => s.spanId));
  const roots = spans.filter((s) => !s.parentSpanId || !ids.has(s.parentSpanId));
  return roots.length > 0 && roots.every((s) => isOperations(s.attributes));
}

function group(spans: Iterable<SpanRecord>): Map<string, SpanRecord[]> {
  const out = new Map<string, SpanRecord[]>();
  const seen = new Set<string>();
  for (const s of spans) {
    if (seen.has(s.spanId)) continue;
    seen.add(s.spanId);
    const list = out.get(s.traceId);
    if (list) list.push(s);
    else out.set(s.traceId, [s]);
  }
  return out;
}

/** The traces without those of the operations endpoints, which the console's own polling starts every 2 s. */
function business(traces: Map<string, SpanRecord[]>): Map<string, SpanRecord[]> {
  for (const [id, spans] of traces) if (isOperationsTrace(spans)) traces.delete(id);
  return traces;
}

@Injectable()
export class TracesService {
  constructor(private readonly deployment: DeploymentService) {}

  /** Recent and slowest traces across every process that is up. */
  async lists(): Promise<TraceLists> {
    const reads = await this.readAll(`/spans?limit=${LIST_SPANS}`);
    const recent = business(group(reads.views.flatMap((v) => v.recent)));
    const slowest = business(group(reads.views.flatMap((v) => [...v.slowest, ...v.recent])));
    const slowIds = new Set(reads.views.flatMap((v) => v.slowest.map((s) => s.traceId)));
    return {
      tracing: reads.views.some((v) => v.tracing),
      recent: [...recent]
        .map(([id, spans]) => summarize(id, spans))
        .sort((a, b) => b.startUs - a.startUs)
        .slice(0, LISTED),
      slowest: [...slowest]
        .filter(([id]) => slowIds.has(id))
        .map(([id, spans]) => summarize(id, spans))
        .sort((a, b) => b.durationUs - a.durationUs)
        .slice(0, LISTED),
      errors: reads.errors,
    };
  }

  /**
   * One call edge's slowest calls: the spans on either side whose RPC method belongs to a part the callee hosts,
   * the longest per trace. A job's edges are seen where its calls arrive.
   */
  async edge(from: RoleName, to: RoleName): Promise<TraceLists> {
    const methods = [...ROLE_TABLE[to].parts] as string[];
    const reads = await Promise.all(
      methods.map((m) => this.readAll(`/spans?rpcMethod=${encodeURIComponent(m)}&limit=${LIST_SPANS}`)),
    );
    const calls = business(group(reads.flatMap((r) => r.views.flatMap((v) => [...v.slowest, ...v.recent]))));
    const summaries = [...calls].map(([id, spans]) => {
      const longest = spans.reduce((a, b) => (b.durationUs > a.durationUs ? b : a));
      return summarize(id, spans, longest.name);
    });
    return {
      edge: { from, to, methods },
      tracing: reads.some((r) => r.views.some((v) => v.tracing)),
      recent: [...summaries].sort((a, b) => b.startUs - a.startUs).slice(0, LISTED),
      slowest: summaries.sort((a, b) => b.durationUs - a.durationUs).slice(0, LISTED),
      errors: [...new Set(reads.flatMap((r) => r.errors))],
    };
  }

  /** Every span of a trace from every process, with the traces it links to and those linking to it. */
  async trace(traceId: string): Promise<TraceView> {
    const first = await this.readAll(`/spans?traceId=${traceId}&limit=${TRACE_SPANS}`);
    const spans = first.views.flatMap((v) => v.recent);
    const linked = new Set<string>();
    for (const s of spans) {
      if (s.traceId !== traceId) linked.add(s.traceId);
      for (const l of s.links) if (l.traceId !== traceId) linked.add(l.traceId);
    }
    const more = await Promise.all(
      [...linked].slice(0, LINKED).map((id) => this.readAll(`/spans?traceId=${id}&limit=${TRACE_SPANS}`)),
    );
    const all = [...spans, ...more.flatMap((r) => r.views.flatMap((v) => v.recent))];
    const unique = [...group(all).values()].flat().sort((a, b) => a.startUs - b.startUs);
    return {
      traceId,
      spans: unique,
      errors: [...new Set([...first.errors, ...more.flatMap((r) => r.errors)])],
    };
  }

  private async readAll(path: string): Promise<{ views: SpansView[]; errors: string[] }> {
    const view = await this.deployment.view();
    const nodes = view.nodes.filter((n) => n.up);
    const answers = await Promise.allSettled(
      nodes.map((n) =>
        this.deployment.fetchJson<SpansView>(n.url, path).then((r) => {
          if (r.status !== 200) throw new Error(`${n.url}${path.split('?')[0]} answered ${r.status}`);
          return r.body;
        }),
      ),
    );
    const views: SpansView[] = [];
    const errors: string[] = [];
    answers.forEach((a, i) => {
      if (a.status === 'fulfilled') views.push(a.value);
      else errors.push(`${nodes[i].url}: ${(a.reason as Error).message}`);
    });
    return { views, errors };
  }
}
