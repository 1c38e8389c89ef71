// Reads the RPC latency histogram out of a role's Prometheus text and turns two readings into calls per second,
// p50/p99 and an error rate. Hand-written: only one metric family is needed, and a general text-format parser
// would parse every family of every role on every poll.

const FAMILY = 'rpc_call_duration_seconds';

export interface RpcSeries {
  pattern: string;
  side: string;
  outcome: string;
  /** Cumulative bucket counts by upper bound (seconds), +Inf last. */
  buckets: Array<[number, number]>;
  count: number;
}

export interface RpcWindow {
  callsPerS: number;
  p50Ms: number | null;
  p99Ms: number | null;
  errorRate: number | null;
}

function labels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) out[m[1]] = m[2];
  return out;
}

export function parseRpcSeries(metrics: string): RpcSeries[] {
  const series = new Map<string, RpcSeries>();
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(FAMILY)) continue;
    const m = /^(\w+)\{(.*)\}\s+(\S+)/.exec(line);
    if (!m) continue;
    const [, name, labelText, value] = m;
    const l = labels(labelText);
    const key = `${l.pattern}\0${l.side}\0${l.transport}\0${l.outcome}`;
    let s = series.get(key);
    if (!s)
      series.set(key, (s = { pattern: l.pattern, side: l.side, outcome: l.outcome, buckets: [], count: 0 }));
    if (name === `${FAMILY}_bucket`)
      s.buckets.push([l.le === '+Inf' ? Infinity : Number(l.le), Number(value)]);
    else if (name === `${FAMILY}_count`) s.count = Number(value);
  }
  return [...series.values()];
}

/** The series that one edge's calls are counted in. */
export type SeriesFilter = (s: RpcSeries) => boolean;

function sumBuckets(list: RpcSeries[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const s of list) for (const [le, n] of s.buckets) out.set(le, (out.get(le) ?? 0) + n);
  return out;
}

/** Prometheus' histogram_quantile: linear interpolation inside the bucket that holds the rank. */
export function quantile(q: number, buckets: Array<[number, number]>): number | null {
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const [le, count] of sorted) {
    if (count >= rank) {
      if (le === Infinity) return prevLe;
      const inBucket = count - prevCount;
      return inBucket <= 0 ? le : prevLe + ((le - prevLe) * (rank - prevCount)) / inBucket;
    }
    prevLe = le;
    prevCount = count;
  }
  return prevLe;
}

/** The calls between two readings `seconds` apart (or since start when there is no earlier reading). */
export function rpcWindow(
  now: RpcSeries[],
  before: RpcSeries[] | undefined,
  seconds: number,
  filter: SeriesFilter,
): RpcWindow {
  const a = now.filter(filter);
  const b = (before ?? []).filter(filter);
  const count = (list: RpcSeries[], outcome?: (o: string) => boolean) =>
    list.filter((s) => !outcome || outcome(s.outcome)).reduce((n, s) => n + s.count, 0);
  const calls = count(a) - count(b);
  const errors = count(a, (o) => o !== 'ok') - count(b, (o) => o !== 'ok');
  const nowBuckets = sumBuckets(a);
  const beforeBuckets = sumBuckets(b);
  const delta: Array<[number, number]> = [...nowBuckets].map(([le, n]) => [
    le,
    n - (beforeBuckets.get(le) ?? 0),
  ]);
  const ms = (v: number | null) => (v === null ? null : Math.round(v * 1e6) / 1e3);
  return {
    callsPerS: seconds > 0 ? Math.round((calls / seconds) * 100) / 100 : 0,
    p50Ms: calls > 0 ? ms(quantile(0.5, delta)) : null,
    p99Ms: calls > 0 ? ms(quantile(0.99, delta)) : null,
    errorRate: calls > 0 ? Math.round((errors / calls) * 1000) / 1000 : null,
  };
}
