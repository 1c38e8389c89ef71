// Prometheus metrics shared by the HTTP edge and the RPC transport: latency histograms by route/pattern and outcome.
import { Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();

const buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** One label set of a histogram: its bucket counts (not cumulative), sum and count. */
class Series {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Record<string, string>,
    private readonly upperBounds: readonly number[],
  ) {
    this.counts = new Float64Array(upperBounds.length);
  }

  observe(seconds: number): void {
    this.sum += seconds;
    this.count++;
    const bounds = this.upperBounds;
    for (let i = 0; i < bounds.length; i++) {
      if (seconds <= bounds[i]) {
        this.counts[i]++;
        return;
      }
    }
  }
}

/**
 * A histogram rendered by prom-client's registry exactly like its own. Hand-written because prom-client's observe
 * validates and hashes the labels on every call, even through a labelled child: here a label set is looked up once.
 */
class LabelledHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<unknown, Map<unknown, Map<unknown, Map<unknown, Series>>>>();
  /** Every series made, in the order they were first observed. */
  private readonly all: Series[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
  ) {
    registry.registerMetric(this as never);
  }

  /**
   * The series of one label set, made on first use with `labels()` (values in labelNames order). Looked up in nested
   * maps keyed by the four values themselves: the strings a hot path passes (a route's pattern, an interned method
   * name, a literal) keep their hash, where one key joined per call would be hashed anew each time.
   */
  of(a: unknown, b: unknown, c: unknown, d: unknown, labels: () => string[]): Series {
    const l1 = this.series.get(a) ?? this.put(this.series, a, new Map());
    const l2 = l1.get(b) ?? this.put(l1, b, new Map());
    const l3 = l2.get(c) ?? this.put(l2, c, new Map());
    let s = l3.get(d);
    if (!s) {
      const v = labels();
      s = this.put(l3, d, new Series(Object.fromEntries(this.labelNames.map((n, i) => [n, v[i]])), buckets));
      this.all.push(s);
    }
    return s;
  }

  private put<K, V>(map: Map<K, V>, key: K, value: V): V {
    map.set(key, value);
    return value;
  }

  getForPromString() {
    const name = `${this.name}_bucket`;
    const values: Array<{
      labels: Record<string, string | number>;
      sharedLabels: Record<string, string>;
      value: number;
      metricName: string;
    }> = [];
    for (const s of this.all) {
      let acc = 0;
      buckets.forEach((le, i) => {
        acc += s.counts[i];
        values.push({ labels: { le }, sharedLabels: s.labels, value: acc, metricName: name });
      });
      values.push({ labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: name });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  get() {
    const data = this.getForPromString();
    return {
      ...data,
      values: data.values.map(({ sharedLabels, labels, ...v }) => ({
        ...v,
        labels: { ...sharedLabels, ...labels },
      })),
    };
  }

  reset(): void {
    this.series.clear();
    this.all.length = 0;
  }
}

const httpDuration = new LabelledHistogram(
  'http_request_duration_seconds',
  'HTTP request latency by route and outcome',
  ['method', 'route', 'status', 'outcome'],
);

const rpcDuration = new LabelledHistogram(
  'rpc_call_duration_seconds',
  'RPC latency by pattern, side (client/server), transport and outcome',
  ['pattern', 'side', 'transport', 'outcome'],
);

let defaultsStarted = false;
export function startDefaultMetrics(role: string): void {
  if (defaultsStarted) return;
  defaultsStarted = true;
  registry.setDefaultLabels({ role });
  collectDefaultMetrics({ register: registry });
}

export function observeRpc(
  pattern: string,
  side: string,
  transport: string,
  outcome: string,
  seconds: number,
): void {
  rpcDuration
    .of(pattern, side, transport, outcome, () => [pattern, side, transport, outcome])
    .observe(seconds);
}

export function observeHttp(method: string, route: string, status: number, seconds: number): void {
  const outcome = status >= 500 ? 'error' : status >= 400 ? 'rejected' : 'ok';
  httpDuration
    .of(route, method, status, outcome, () => [method, route, String(status), outcome])
    .observe(seconds);
}
