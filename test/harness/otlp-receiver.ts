// A local OTLP/HTTP trace receiver: what a collector would get from the roles' exporters, decoded from the wire —
// protobuf (the OTLP trace messages, field numbers from opentelemetry-proto's trace/v1 and common/v1) or JSON.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import protobuf from 'protobufjs';

/** The part of opentelemetry-proto this receiver reads (unknown fields are skipped by the decoder). */
const OTLP_PROTO = `
syntax = "proto3";
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
message InstrumentationScope { string name = 1; string version = 2; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4; string name = 5;
  int32 kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9; repeated Link links = 13; Status status = 15;
}
message Link { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; repeated KeyValue attributes = 4; }
message Status { string message = 2; int32 code = 3; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; }
}
`;

const ExportRequest = protobuf
  .parse(OTLP_PROTO, { keepCase: true })
  .root.lookupType('ExportTraceServiceRequest');

/** OTLP's SpanKind enum (SPAN_KIND_INTERNAL = 1 ... SPAN_KIND_CONSUMER = 5). */
export const OtlpKind = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  traceState: string;
  name: string;
  kind: number;
  service: string;
  attributes: Record<string, string | number | boolean>;
  links: Array<{ traceId: string; spanId: string }>;
  /** 0 unset, 1 ok, 2 error. */
  statusCode: number;
  /** How it arrived: the request's content type. */
  encoding: 'protobuf' | 'json';
}

type AnyValue = {
  string_value?: string;
  bool_value?: boolean;
  int_value?: unknown;
  double_value?: number;
  stringValue?: string;
  boolValue?: boolean;
  intValue?: unknown;
  doubleValue?: number;
};
type KeyValue = { key: string; value?: AnyValue };

function valueOf(v: AnyValue | undefined): string | number | boolean {
  if (!v) return '';
  const s = v.string_value ?? v.stringValue;
  if (s !== undefined) return s;
  const b = v.bool_value ?? v.boolValue;
  if (b !== undefined) return b;
  const i = v.int_value ?? v.intValue;
  if (i !== undefined && i !== null) return Number(String(i));
  return v.double_value ?? v.doubleValue ?? '';
}

function attributesOf(list: KeyValue[] | undefined): Record<string, string | number | boolean> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, valueOf(kv.value)]));
}

const hex = (b: Uint8Array | string | undefined): string =>
  typeof b === 'string' ? b.toLowerCase() : b ? Buffer.from(b).toString('hex') : '';

/** Both encodings, brought to one shape: protobufjs objects use snake_case, OTLP/JSON lowerCamelCase. */
function spansOf(body: Record<string, any>, encoding: ReceivedSpan['encoding']): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of body.resource_spans ?? body.resourceSpans ?? []) {
    const resource = attributesOf(rs.resource?.attributes);
    for (const ss of rs.scope_spans ?? rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: hex(s.trace_id ?? s.traceId),
          spanId: hex(s.span_id ?? s.spanId),
          parentSpanId: hex(s.parent_span_id ?? s.parentSpanId),
          traceState: s.trace_state ?? s.traceState ?? '',
          name: s.name,
          kind: Number(s.kind ?? 0),
          service: String(resource['service.name'] ?? ''),
          attributes: attributesOf(s.attributes),
          links: (s.links ?? []).map((l: Record<string, any>) => ({
            traceId: hex(l.trace_id ?? l.traceId),
            spanId: hex(l.span_id ?? l.spanId),
          })),
          statusCode: Number(s.status?.code ?? 0),
          encoding,
        });
      }
    }
  }
  return out;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Content types of the export requests received. */
  readonly contentTypes: string[] = [];

  private constructor(private readonly server: Server) {}

  static async start(): Promise<OtlpReceiver> {
    const server = createServer((req, res) => {
      void readBody(req).then(
        (body) => {
          const type = String(req.headers['content-type'] ?? '');
          if (req.method !== 'POST' || req.url !== '/v1/traces') {
            res.writeHead(404).end();
            return;
          }
          receiver.contentTypes.push(type);
          if (type.startsWith('application/json')) {
            receiver.spans.push(...spansOf(JSON.parse(body.toString('utf8')), 'json'));
            res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
          } else {
            const decoded = ExportRequest.toObject(ExportRequest.decode(body), { longs: String });
            receiver.spans.push(...spansOf(decoded, 'protobuf'));
            res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
          }
        },
        () => res.writeHead(400).end(),
      );
    });
    const receiver = new OtlpReceiver(server);
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    return receiver;
  }

  /** What OTEL_EXPORTER_OTLP_ENDPOINT should say. */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  /** Waits until a span matching `test` has arrived (exports leave every second). */
  async waitForSpan(test: (s: ReceivedSpan) => boolean, timeoutMs = 15_000): Promise<ReceivedSpan> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.spans.find(test);
      if (hit) return hit;
      if (Date.now() > deadline) {
        const seen = this.spans.map((s) => `${s.service}:${s.name}`).join(', ');
        throw new Error(`no matching span after ${timeoutMs} ms; received: ${seen || 'none'}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  close(): Promise<void> {
    return new Promise((done) => {
      this.server.closeAllConnections();
      this.server.close(() => done());
    });
  }
}
