// This role's recent spans and its slowest entry spans, kept in memory for the operations console (GET /spans).
// Registered as one more span processor: onEnd stores a reference in a fixed-size ring and compares one number
// against the slowest set's floor, so keeping spans costs a request no allocation; records are built only when the
// console reads them.
import { SpanKind, SpanStatusCode, type AttributeValue } from '@opentelemetry/api';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';

/** The injection token under which the tracing setup hands its ring to the operations route. */
export const SPAN_RING = Symbol('SPAN_RING');

export type SpanKindName = 'internal' | 'server' | 'client' | 'producer' | 'consumer';

/** One ended span as plain JSON: what the console joins across roles by trace id. */
export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: SpanKindName;
  /** The resource's service.name: the role (or OTEL_SERVICE_NAME) that recorded the span. */
  role: string;
  /** Epoch microseconds. */
  startUs: number;
  durationUs: number;
  status: { code: 'unset' | 'ok' | 'error'; message?: string };
  attributes: Record<string, AttributeValue>;
  links: Array<{ traceId: string; spanId: string; attributes?: Record<string, AttributeValue> }>;
}

export interface SpanQuery {
  /** Spans of this trace, and spans of other traces that link to it (work it caused that ran later). */
  traceId?: string;
  /** An RPC method or a prefix of it up to a dot or slash: `auth.verify`, or `auth` for every auth call. */
  rpcMethod?: string;
  /** The peer a client span called or a server span answered: peer.service, server.address or client.address. */
  peer?: string;
  limit?: number;
}

export interface SpanRingOptions {
  /** Ended spans kept, newest replacing oldest. */
  capacity?: number;
  /** Slowest entry spans kept (each with the spans of its trace the ring held when it ended). */
  slowest?: number;
  /** A slow span leaves the set once spans end this many seconds after it, so the set follows the present. */
  slowestWindowS?: number;
}

interface Slow {
  span: ReadableSpan;
  durationNs: number;
  endS: number;
  trace: ReadableSpan[];
}

const KINDS: SpanKindName[] = ['internal', 'server', 'client', 'producer', 'consumer'];
const STATUS = {
  [SpanStatusCode.UNSET]: 'unset',
  [SpanStatusCode.OK]: 'ok',
  [SpanStatusCode.ERROR]: 'error',
} as const;
const PEER_KEYS = ['peer.service', 'server.address', 'client.address', 'net.peer.name'];

const nanos = (t: readonly [number, number]) => t[0] * 1e9 + t[1];

/**
 * The operations endpoints every role serves (the console's own reads among them). Their requests are not what
 * the slowest set is for: a readiness check waiting on a peer must not push a slow payment out.
 */
export const OPERATIONS_PATHS = ['/health', '/metrics', '/about', '/docs', '/console', '/spans'];
const PING = 'platform.ping';

/** A request to an operations endpoint (by its route, or its path before routing) or a readiness ping. */
export function isOperations(attributes: Readonly<Record<string, unknown>>): boolean {
  const route = attributes['http.route'] ?? attributes['url.path'];
  if (typeof route === 'string')
    return OPERATIONS_PATHS.some(
      (p) => route.startsWith(p) && (route.length === p.length || route.charCodeAt(p.length) === 47),
    );
  return attributes['rpc.method'] === PING;
}

/** A span that starts this role's part of a request: no local parent, or the server/consumer side of a call. */
function isEntry(span: ReadableSpan): boolean {
  const parent = span.parentSpanContext;
  return (
    !parent || parent.isRemote === true || span.kind === SpanKind.SERVER || span.kind === SpanKind.CONSUMER
  );
}

/** The RPC method a span is about, as `service.method` when the service is given apart, or undefined. */
function rpcMethodOf(span: ReadableSpan): string | undefined {
  const method = span.attributes['rpc.method'];
  if (typeof method !== 'string') {
    const rpc = span.attributes['rpc.system.name'] ?? span.attributes['rpc.system'];
    return rpc === undefined ? undefined : span.name;
  }
  const service = span.attributes['rpc.service'];
  return typeof service === 'string' && !method.startsWith(`${service}.`) && !method.startsWith(`${service}/`)
    ? `${service}.${method}`
    : method;
}

function matches(span: ReadableSpan, q: SpanQuery): boolean {
  if (q.traceId !== undefined) {
    const own = span.spanContext().traceId === q.traceId;
    if (!own && !span.links.some((l) => l.context.traceId === q.traceId)) return false;
  }
  if (q.rpcMethod !== undefined) {
    const method = rpcMethodOf(span);
    if (method === undefined) return false;
    const rest = method.startsWith(q.rpcMethod) ? method.slice(q.rpcMethod.length) : undefined;
    if (rest === undefined || !(rest === '' || rest[0] === '.' || rest[0] === '/')) return false;
  }
  if (q.peer !== undefined && !PEER_KEYS.some((k) => span.attributes[k] === q.peer)) return false;
  return true;
}

export function spanRecord(span: ReadableSpan): SpanRecord {
  const ctx = span.spanContext();
  const attributes: Record<string, AttributeValue> = {};
  for (const [k, v] of Object.entries(span.attributes)) if (v !== undefined) attributes[k] = v;
  const role = span.resource.attributes['service.name'];
  return {
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    parentSpanId: span.parentSpanContext?.spanId ?? null,
    name: span.name,
    kind: KINDS[span.kind] ?? 'internal',
    role: typeof role === 'string' ? role : 'unknown',
    startUs: Math.round(span.startTime[0] * 1e6 + span.startTime[1] / 1e3),
    durationUs: Math.round(nanos(span.duration) / 1e3),
    status: {
      code: STATUS[span.status.code] ?? 'unset',
      ...(span.status.message ? { message: span.status.message } : {}),
    },
    attributes,
    links: span.links.map((l) => ({
      traceId: l.context.traceId,
      spanId: l.context.spanId,
      ...(l.attributes && Object.keys(l.attributes).length
        ? { attributes: l.attributes as SpanRecord['attributes'] }
        : {}),
    })),
  };
}

export class SpanRing implements SpanProcessor {
  readonly capacity: number;
  readonly slowestCapacity: number;
  private readonly ring: (ReadableSpan | undefined)[];
  private next = 0;
  readonly slowestWindowS: number;
  private slow: Slow[] = [];
  /** The shortest duration in a full slowest set: anything not longer is dropped with one comparison. */
  private floorNs = 0;
  /** When the set's oldest span ended (epoch seconds): past the window, the set has a place to give. */
  private oldestEndS = Infinity;

  constructor(options: SpanRingOptions = {}) {
    this.capacity = options.capacity ?? 2048;
    this.slowestCapacity = options.slowest ?? 32;
    this.slowestWindowS = options.slowestWindowS ?? 600;
    if (!(this.capacity >= 1) || !(this.slowestCapacity >= 0))
      throw new Error('SpanRing needs a capacity of at least 1');
    this.ring = new Array<ReadableSpan | undefined>(this.capacity).fill(undefined);
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    this.ring[this.next] = span;
    this.next = this.next + 1 === this.capacity ? 0 : this.next + 1;
    if (this.slowestCapacity === 0 || !isEntry(span)) return;
    const durationNs = nanos(span.duration);
    if (
      this.slow.length === this.slowestCapacity &&
      durationNs <= this.floorNs &&
      span.endTime[0] - this.oldestEndS < this.slowestWindowS
    )
      return;
    this.keepSlow(span, durationNs);
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Recent spans, newest first, and the slowest entry spans, slowest first, that match the query. With a trace id,
   * `recent` holds every span kept of that trace (and of traces linking to it), whether from the ring or kept with
   * a slow entry.
   */
  query(q: SpanQuery = {}): { recent: SpanRecord[]; slowest: SpanRecord[] } {
    const limit = Math.max(1, Math.min(q.limit ?? 100, this.capacity));
    const recent: ReadableSpan[] = [];
    const seen = new Set<ReadableSpan>();
    for (let i = 1; i <= this.capacity && recent.length < limit; i++) {
      const span = this.ring[(this.next - i + this.capacity) % this.capacity];
      if (span === undefined) break;
      if (matches(span, q)) {
        recent.push(span);
        seen.add(span);
      }
    }
    // The window ends at the newest span, not at the clock: a quiet role still shows its last slow requests.
    const newest = this.ring[(this.next - 1 + this.capacity) % this.capacity];
    const since = (newest?.endTime[0] ?? 0) - this.slowestWindowS;
    const slowest = this.slow.filter((s) => s.endS > since).sort((a, b) => b.durationNs - a.durationNs);
    if (q.traceId !== undefined) {
      for (const s of slowest)
        for (const span of s.trace)
          if (!seen.has(span) && recent.length < limit && matches(span, q)) {
            recent.push(span);
            seen.add(span);
          }
    }
    return {
      recent: recent.map(spanRecord),
      slowest: slowest
        .filter((s) => matches(s.span, q))
        .slice(0, limit)
        .map((s) => spanRecord(s.span)),
    };
  }

  /** The spans of a trace the ring holds now (kept with a slow entry, so the ring's turnover cannot lose them). */
  private traceOf(traceId: string): ReadableSpan[] {
    const out: ReadableSpan[] = [];
    for (const span of this.ring)
      if (span !== undefined && span.spanContext().traceId === traceId) out.push(span);
    return out;
  }

  // Runs only for an entry span slower than the set's floor, or when the set's oldest span has left the window: rare
  // once the set is full. Operations requests stay in the ring but never take a place here. A trace holds one place, for its slowest entry span (in one process, a request's HTTP span
  // and the in-process call's server span are both entries).
  private keepSlow(span: ReadableSpan, durationNs: number): void {
    if (isOperations(span.attributes)) return;
    const endS = span.endTime[0];
    if (endS - this.oldestEndS >= this.slowestWindowS)
      this.slow = this.slow.filter((s) => endS - s.endS < this.slowestWindowS);
    const traceId = span.spanContext().traceId;
    const same = this.slow.findIndex((s) => s.span.spanContext().traceId === traceId);
    if (same >= 0 && this.slow[same].durationNs >= durationNs) return;
    const entry: Slow = { span, durationNs, endS, trace: this.traceOf(traceId) };
    if (same >= 0) this.slow[same] = entry;
    else if (this.slow.length < this.slowestCapacity) this.slow.push(entry);
    else {
      let min = 0;
      for (let i = 1; i < this.slow.length; i++)
        if (this.slow[i].durationNs < this.slow[min].durationNs) min = i;
      if (this.slow[min].durationNs >= durationNs) return;
      this.slow[min] = entry;
    }
    let floor = Infinity;
    let oldest = Infinity;
    for (const s of this.slow) {
      floor = Math.min(floor, s.durationNs);
      oldest = Math.min(oldest, s.endS);
    }
    this.floorNs = this.slow.length === this.slowestCapacity ? floor : 0;
    this.oldestEndS = oldest;
  }
}
