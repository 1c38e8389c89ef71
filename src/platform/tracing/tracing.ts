// The process's tracing: one OpenTelemetry tracer provider (sampler and resource from the standard OTEL_* settings),
// the console's span ring, and an OTLP export batched off the request path. The edges (HTTP, Nest TCP, gRPC, the
// outbox, the spawner) start their spans through the helpers below, so every hop speaks W3C trace context.
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  INVALID_SPAN_CONTEXT,
  diag,
  propagation,
  trace,
  type Attributes,
  type Context,
  type DiagLogger,
  type Link,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator, setGlobalErrorHandler } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import {
  ATTR_ERROR_TYPE,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
} from '@opentelemetry/semantic-conventions';
import { PooledIdGenerator } from './pooled-ids.js';
import { RateLimitedSampler } from './rate-limited-sampler.js';
import { SPAN_RING, SpanRing } from './span-ring.js';
import type { SamplerName, TracingSettings } from './tracing.settings.js';

export const TRACER_NAME = 'polyrole';

/** The span ring of this process, for the operations console (injected with this token). */
export { SPAN_RING };

/**
 * Longest trace-context value taken from a caller. A version-00 traceparent is 55 characters; later versions may
 * append fields, and the W3C limit for tracestate is 512. Anything longer is dropped unread: a new trace starts.
 */
const MAX_TRACEPARENT = 256;
const MAX_TRACESTATE = 512;

const propagator = new W3CTraceContextPropagator();

/** Reads traceparent/tracestate from headers, gRPC metadata values or an RPC packet's metadata alike. */
const CARRIER_GETTER: TextMapGetter<unknown> = {
  keys: (carrier) => (carrier && typeof carrier === 'object' ? Object.keys(carrier) : []),
  get: (carrier, key) => {
    if (!carrier || typeof carrier !== 'object') return undefined;
    let value = (carrier as Record<string, unknown>)[key];
    if (Array.isArray(value)) value = value[0];
    if (typeof value !== 'string') return undefined;
    return value.length <= (key === 'tracestate' ? MAX_TRACESTATE : MAX_TRACEPARENT) ? value : undefined;
  },
};

const SETTER: TextMapSetter<Record<string, string>> = { set: (c, k, v) => void (c[k] = v) };

let tracer: Tracer = trace.getTracer(TRACER_NAME);
let ring = new SpanRing();

/** The platform's tracer (a no-op one until startTracing(), and with OTEL_SDK_DISABLED). */
export function platformTracer(): Tracer {
  return tracer;
}

/** The span ring every provider of this process feeds. */
export function spanRing(): SpanRing {
  return ring;
}

/** The context a caller handed over (traceparent/tracestate in `carrier`), or the root when it sent none or a bad one. */
export function extractTraceContext(carrier: unknown): Context {
  return propagator.extract(ROOT_CONTEXT, carrier, CARRIER_GETTER);
}

/** Writes the span of `ctx` into `carrier` as traceparent (and tracestate): nothing when there is no valid span. */
function injectTraceContext(ctx: Context, carrier: Record<string, string>): void {
  propagator.inject(ctx, carrier, SETTER);
}

/**
 * Writes `span`'s context into `carrier` for the callee: nothing when the span has no valid context. The span alone
 * is put in an empty context for the propagator: copying the caller's whole context (its request, its span) for one
 * read would be an allocation per call for nothing. The no-op span of tracing off (or suppressed) is skipped by
 * identity; the propagator checks any other span's ids itself (validating them here too would run its two regular
 * expressions twice per call).
 */
export function injectSpan(span: Span, carrier: Record<string, string>): void {
  if (span.spanContext() === INVALID_SPAN_CONTEXT) return;
  propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, SETTER);
}

/** The current span as a traceparent value, for work handed to later (the outbox row, a child process). */
export function currentTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  injectTraceContext(context.active(), carrier);
  return carrier.traceparent;
}

/** A span's own traceparent (handed to a child process), or undefined when it has no valid context. */
export function traceparentOf(span: Span): string | undefined {
  const carrier: Record<string, string> = {};
  injectSpan(span, carrier);
  return carrier.traceparent;
}

/** A link to the span a stored traceparent names (work that runs later links back to the request that caused it). */
export function linkTo(traceparent: string | null | undefined): Link[] | undefined {
  if (!traceparent) return undefined;
  const ctx = trace.getSpanContext(extractTraceContext({ traceparent }));
  return ctx ? [{ context: ctx }] : undefined;
}

/** Starts a SERVER/CONSUMER span whose parent is what `carrier` says (a new trace when it says nothing usable). */
export function startServerSpan(
  name: string,
  carrier: unknown,
  kind: SpanKind = SpanKind.SERVER,
  attributes?: Attributes,
): Span {
  return tracer.startSpan(name, { kind, attributes }, extractTraceContext(carrier));
}

/**
 * Records a failed call on its span: the problem's code as `error.type`, and status ERROR (with the message) when the
 * failure is the span's own (a server's 5xx; every failure of a client call). A server answering 4xx did its job:
 * its status stays unset, as the semantic conventions ask.
 */
export function failSpan(span: Span, code: string, error: boolean, message?: string): void {
  if (!span.isRecording()) return;
  span.setAttribute(ATTR_ERROR_TYPE, code);
  if (error) span.setStatus({ code: SpanStatusCode.ERROR, message });
}

export interface Tracing {
  ring: SpanRing;
  /** Whether spans are recorded at all (false with OTEL_SDK_DISABLED). */
  enabled: boolean;
  /** Where spans are exported, when they are. */
  exportUrl?: string;
  /** Exports what is queued and stops; called from the shutdown sequence. */
  shutdown(): Promise<void>;
}

export interface StartTracingOptions {
  settings: TracingSettings;
  /** OTEL_SERVICE_NAME's default. */
  role: string;
  version: string;
  production: boolean;
  /** Where the SDK's own problems go (an unreachable collector): one warning line, not a failed request. */
  warn: (message: string, detail?: Record<string, unknown>) => void;
}

/**
 * New traces a process starts per second at most when OTEL_TRACES_SAMPLER is unset outside production: every
 * request of someone trying the platform, and under a load test about a second of the console's span ring.
 */
export const DEVELOPMENT_TRACES_PER_SECOND = 100;

/**
 * The shipped default, always honouring a caller's decision (parent-based): outside production every new trace up
 * to DEVELOPMENT_TRACES_PER_SECOND a second, in production a tenth of them. A named sampler is used as named.
 */
export function samplerFor(
  name: SamplerName | undefined,
  arg: number | undefined,
  production: boolean,
): Sampler {
  if (name === undefined && !production)
    return new ParentBasedSampler({ root: new RateLimitedSampler(DEVELOPMENT_TRACES_PER_SECOND) });
  const chosen = name ?? 'parentbased_traceidratio';
  const ratio = new TraceIdRatioBasedSampler(arg ?? (production ? 0.1 : 1));
  switch (chosen) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio });
  }
}

/** OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, else OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces; undefined: no export. */
export function exportUrlOf(settings: TracingSettings): string | undefined {
  if (settings.exporter === 'none') return undefined;
  if (settings.tracesEndpoint) return settings.tracesEndpoint;
  if (settings.endpoint) return `${settings.endpoint.replace(/\/+$/, '')}/v1/traces`;
  return settings.exporter === 'otlp' ? 'http://localhost:4318/v1/traces' : undefined;
}

/** How often the same SDK warning may be logged again. */
const WARN_EVERY_MS = 60_000;

function rateLimited(warn: StartTracingOptions['warn']): (message: string) => void {
  const last = new Map<string, number>();
  return (message) => {
    const now = Date.now();
    if ((last.get(message) ?? -Infinity) > now - WARN_EVERY_MS) return;
    last.set(message, now);
    warn(message);
  };
}

/**
 * The OTLP exporter for the protocol, imported only when spans are exported: the exporters and what they bring
 * (the OTLP transformer, the metrics SDK it serialises for) are about 120 files a role without a collector never
 * needs at boot.
 */
async function otlpExporter(protocol: TracingSettings['protocol'], url: string): Promise<SpanExporter> {
  const { OTLPTraceExporter } =
    protocol === 'http/json'
      ? await import('@opentelemetry/exporter-trace-otlp-http')
      : await import('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter({ url });
}

export async function startTracing(opts: StartTracingOptions): Promise<Tracing> {
  const { settings } = opts;
  ring = new SpanRing();
  // User code and libraries reach W3C trace context through the API's propagator too.
  propagation.setGlobalPropagator(propagator);
  if (settings.sdkDisabled) {
    tracer = trace.getTracer(TRACER_NAME);
    return { ring, enabled: false, shutdown: () => Promise.resolve() };
  }
  const warnOnce = rateLimited(opts.warn);
  setGlobalErrorHandler((err) => warnOnce(`span export failed: ${String((err as Error)?.message ?? err)}`));
  const toWarn = (...args: unknown[]) => warnOnce(args.map(String).join(' '));
  const diagLogger: DiagLogger = {
    error: toWarn,
    warn: toWarn,
    info: () => undefined,
    debug: () => undefined,
    verbose: () => undefined,
  };
  diag.setLogger(diagLogger, { suppressOverrideMessage: true });

  const exportUrl = exportUrlOf(settings);
  const processors: SpanProcessor[] = [ring];
  if (exportUrl) {
    const exporter = await otlpExporter(settings.protocol, exportUrl);
    // Bounded: at most 2048 spans wait; beyond that new ones are dropped (counted in a warning), never waited for.
    processors.push(
      new BatchSpanProcessor({
        exporter,
        maxQueueSize: 2048,
        maxExportBatchSize: 512,
        scheduledDelayMillis: 1000,
        exportTimeoutMillis: 10_000,
      }),
    );
  }
  const provider = new TracerProvider({
    sampler: samplerFor(settings.sampler, settings.samplerArg, opts.production),
    resource: resourceFromAttributes({
      ...settings.resourceAttributes,
      [ATTR_SERVICE_NAME]:
        settings.serviceName ?? settings.resourceAttributes[ATTR_SERVICE_NAME] ?? opts.role,
      [ATTR_SERVICE_VERSION]: opts.version,
    }),
    spanProcessors: processors,
    idGenerator: new PooledIdGenerator(),
  });
  trace.setGlobalTracerProvider(provider);
  tracer = provider.getTracer(TRACER_NAME, opts.version);
  return {
    ring,
    enabled: true,
    exportUrl,
    shutdown: async () => {
      await provider.shutdown().catch((err: unknown) => warnOnce(`span export failed: ${String(err)}`));
    },
  };
}

export { SpanKind };
