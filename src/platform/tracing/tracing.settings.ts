// The standard OpenTelemetry variables, read and checked with every other setting at boot (a bad value stops the
// process with the rest). OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT and _COMPRESSION are left to the exporter, which reads
// them itself: they only shape the requests it sends, and the exporter knows their formats.
import { defineSettings, type SettingsOf } from '../config/settings.js';
import { bool, oneOf, str, url } from '../config/parsers.js';

export const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type SamplerName = (typeof SAMPLERS)[number];

function ratio(raw: unknown): number {
  const text = String(raw).trim();
  const n = Number(text);
  if (text === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new Error('must be a number from 0 to 1');
  return n;
}

/** `key=value,key=value` with percent-encoded values (the W3C baggage format the specification names). */
function resourceAttributes(raw: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of String(raw).split(',')) {
    if (entry.trim() === '') continue;
    const eq = entry.indexOf('=');
    const key = eq > 0 ? entry.slice(0, eq).trim() : '';
    if (!key) throw new Error('must be key=value pairs separated by commas');
    try {
      out[key] = decodeURIComponent(entry.slice(eq + 1).trim());
    } catch {
      throw new Error(`has a badly percent-encoded value for ${key}`);
    }
  }
  return out;
}

export const tracingSettings = defineSettings({
  sdkDisabled: { env: 'OTEL_SDK_DISABLED', default: false, parse: bool() },
  serviceName: { env: 'OTEL_SERVICE_NAME', optional: true, parse: str({ minLength: 1 }) },
  resourceAttributes: {
    env: 'OTEL_RESOURCE_ATTRIBUTES',
    default: {} as Record<string, string>,
    parse: resourceAttributes,
  },
  /** Unset: parent-based, new traces up to 100 a second in development and test; parentbased_traceidratio in production. */
  sampler: { env: 'OTEL_TRACES_SAMPLER', optional: true, parse: oneOf(SAMPLERS) },
  /** The ratio of the *traceidratio samplers; unset: 0.1 in production, 1 elsewhere. */
  samplerArg: { env: 'OTEL_TRACES_SAMPLER_ARG', optional: true, parse: ratio },
  /** `none` keeps spans in the process only (the console's ring); unset: otlp when an endpoint is set. */
  exporter: { env: 'OTEL_TRACES_EXPORTER', optional: true, parse: oneOf(['otlp', 'none'] as const) },
  endpoint: { env: 'OTEL_EXPORTER_OTLP_ENDPOINT', optional: true, parse: url(['http', 'https']) },
  tracesEndpoint: {
    env: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    optional: true,
    parse: url(['http', 'https']),
  },
  protocol: {
    env: ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL'],
    default: 'http/protobuf' as const,
    parse: oneOf(['http/protobuf', 'http/json'] as const),
  },
});

export type TracingSettings = SettingsOf<typeof tracingSettings>;

/**
 * The same settings as variables again, for a process this one starts (the master's children): its spans go where
 * this process's go, under the same sampler. The service name is left out: a child names itself after its role.
 */
export function tracingEnvOf(s: TracingSettings): Record<string, string> {
  const attributes = Object.entries(s.resourceAttributes)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join(',');
  const env: Record<string, string | undefined> = {
    OTEL_SDK_DISABLED: s.sdkDisabled ? 'true' : undefined,
    OTEL_RESOURCE_ATTRIBUTES: attributes || undefined,
    OTEL_TRACES_SAMPLER: s.sampler,
    OTEL_TRACES_SAMPLER_ARG: s.samplerArg === undefined ? undefined : String(s.samplerArg),
    OTEL_TRACES_EXPORTER: s.exporter,
    OTEL_EXPORTER_OTLP_ENDPOINT: s.endpoint,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: s.tracesEndpoint,
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: s.protocol,
  };
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as Record<string, string>;
}
