import { Controller, Get, Module } from '@nestjs/common';
import { DiscoveryModule, NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { SpanKind, context, trace } from '@opentelemetry/api';
import {
  AlwaysOnSampler,
  InMemorySpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { resolveSettings } from '../config/settings.js';
import { configureHttpEdge, fastifyOptions } from '../http/http-edge.js';
import { currentRequestId } from '../logging/request-context.js';
import { RateLimitedSampler } from './rate-limited-sampler.js';
import { DEVELOPMENT_TRACES_PER_SECOND, exportUrlOf, extractTraceContext, samplerFor } from './tracing.js';
import { tracingSettings, tracingEnvOf } from './tracing.settings.js';

const caller = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' };
const traceparent = `00-${caller.traceId}-${caller.spanId}-01`;

@Controller('work')
class WorkController {
  /** What user code does: its own tracer, a span of its own, made current for the work inside it. */
  @Get()
  async work() {
    return trace.getTracer('user-code').startActiveSpan('user work', async (span) => {
      await new Promise((r) => setTimeout(r, 1));
      const seen = { requestId: currentRequestId(), active: trace.getActiveSpan() === span };
      span.end();
      return seen;
    });
  }
}

@Module({ imports: [DiscoveryModule], controllers: [WorkController] })
class WorkModule {}

const settings = (env: Record<string, string>) =>
  resolveSettings(tracingSettings, { env, configDir: '/nonexistent' });

describe('tracing', () => {
  const exporter = new InMemorySpanExporter();
  let app: NestFastifyApplication;
  let url: string;

  beforeAll(async () => {
    trace.setGlobalTracerProvider(
      new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }),
    );
    app = await NestFactory.create<NestFastifyApplication>(
      WorkModule,
      new FastifyAdapter(fastifyOptions(1024)),
      {
        logger: false,
        bodyParser: false,
      },
    );
    configureHttpEdge(app, { bodyLimit: 1024 });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });

  afterAll(async () => {
    await app?.close();
    trace.disable();
  });

  it("gives user code's startActiveSpan a child of the request's server span, which continues the caller's trace", async () => {
    const res = await fetch(`${url}/work`, { headers: { traceparent, 'x-request-id': 'user-1' } });
    expect(await res.json()).toEqual({ requestId: 'user-1', active: true });
    const spans = exporter.getFinishedSpans();
    const server = spans.find((s) => s.name === 'GET /work')!;
    const user = spans.find((s) => s.name === 'user work')!;
    expect(server.kind).toBe(SpanKind.SERVER);
    expect(server.spanContext().traceId).toBe(caller.traceId);
    expect(server.parentSpanContext?.spanId).toBe(caller.spanId);
    expect(user.spanContext().traceId).toBe(caller.traceId);
    expect(user.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(server.attributes).toMatchObject({ 'http.route': '/work', 'http.response.status_code': 200 });
  });

  it('ignores a traceparent or tracestate that is malformed, of the wrong type, or oversized', () => {
    const spanOf = (carrier: unknown) => trace.getSpanContext(extractTraceContext(carrier));
    expect(spanOf({ traceparent })?.traceId).toBe(caller.traceId);
    expect(spanOf({ traceparent: [traceparent] })?.traceId).toBe(caller.traceId);
    expect(spanOf({ traceparent: 'garbage' })).toBeUndefined();
    expect(spanOf({ traceparent: 42 })).toBeUndefined();
    expect(
      spanOf({ traceparent: `01-${caller.traceId}-${caller.spanId}-01-${'x'.repeat(300)}` }),
    ).toBeUndefined();
    expect(spanOf('not an object')).toBeUndefined();
    const state = (tracestate: string) => spanOf({ traceparent, tracestate })?.traceState?.serialize();
    expect(state('a=1,b=2')).toBe('a=1,b=2');
    expect(state(`a=${'x'.repeat(600)}`)).toBeUndefined();
    expect(context.active()).toBeDefined();
  });

  it('samples new traces up to a rate in development and test, a tenth of them in production, honouring the parent', () => {
    expect(String(samplerFor(undefined, undefined, false))).toBe(
      String(new ParentBasedSampler({ root: new RateLimitedSampler(DEVELOPMENT_TRACES_PER_SECOND) })),
    );
    expect(String(samplerFor(undefined, undefined, false))).toMatch(/root=RateLimitedSampler\{100\/s\}/);
    expect(samplerFor('parentbased_always_on', undefined, false)).toEqual(
      new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    );
    expect(samplerFor(undefined, undefined, true)).toEqual(
      new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.1) }),
    );
    expect(samplerFor('traceidratio', 0.25, true)).toEqual(new TraceIdRatioBasedSampler(0.25));
  });

  it('exports only where an endpoint is set (OTLP/HTTP paths as the specification builds them)', () => {
    expect(exportUrlOf(settings({}))).toBeUndefined();
    expect(exportUrlOf(settings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }))).toBe(
      'http://collector:4318/v1/traces',
    );
    expect(
      exportUrlOf(
        settings({
          OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://other:4318/custom',
        }),
      ),
    ).toBe('http://other:4318/custom');
    expect(exportUrlOf(settings({ OTEL_TRACES_EXPORTER: 'otlp' }))).toBe('http://localhost:4318/v1/traces');
    expect(
      exportUrlOf(settings({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' })),
    ).toBe(undefined);
  });

  it('refuses bad OTEL_* values at boot, naming each', () => {
    expect(() =>
      settings({
        OTEL_TRACES_SAMPLER: 'sometimes',
        OTEL_TRACES_SAMPLER_ARG: '2',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc',
        OTEL_RESOURCE_ATTRIBUTES: 'novalue',
      }),
    ).toThrow(
      /OTEL_RESOURCE_ATTRIBUTES: must be key=value[\s\S]*OTEL_TRACES_SAMPLER: must be one of[\s\S]*OTEL_TRACES_SAMPLER_ARG: must be a number from 0 to 1[\s\S]*OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: must be one of http\/protobuf, http\/json/,
    );
  });

  it('hands the same settings on to a process it starts', () => {
    const s = settings({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.5',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=staging,team=a%2Cb',
    });
    expect(settings(tracingEnvOf(s))).toEqual(s);
  });
});
