import { parseRpcSeries, quantile, rpcWindow } from './rpc-metrics.util.js';

/** A role's /metrics text: prom-client's histogram lines, with the default role label, plus another family. */
function metricsText(convertOk: number[], convertErrors: number): string {
  const les = ['0.001', '0.01', '0.1', '+Inf'];
  const series = (outcome: string, counts: number[]) =>
    [
      ...les.map(
        (le, i) =>
          `rpc_call_duration_seconds_bucket{le="${le}",pattern="exchange.convert",side="client",transport="tcp",outcome="${outcome}",role="generator"} ${counts[i]}`,
      ),
      `rpc_call_duration_seconds_sum{pattern="exchange.convert",side="client",transport="tcp",outcome="${outcome}",role="generator"} 0.5`,
      `rpc_call_duration_seconds_count{pattern="exchange.convert",side="client",transport="tcp",outcome="${outcome}",role="generator"} ${counts.at(-1)}`,
    ].join('\n');
  return [
    '# HELP rpc_call_duration_seconds RPC latency',
    '# TYPE rpc_call_duration_seconds histogram',
    series('ok', convertOk),
    series('error', [0, 0, convertErrors, convertErrors]),
    'http_request_duration_seconds_count{method="GET",route="/x",status="200",outcome="ok",role="generator"} 99',
  ].join('\n');
}

const isConvert = (s: { pattern: string; side: string }) =>
  s.pattern === 'exchange.convert' && s.side === 'client';

describe('rpc metrics', () => {
  it('reads each RPC series with its buckets and count, and nothing of other families', () => {
    const series = parseRpcSeries(metricsText([10, 80, 100, 100], 0));
    expect(series).toHaveLength(2);
    expect(series[0]).toEqual({
      pattern: 'exchange.convert',
      side: 'client',
      outcome: 'ok',
      count: 100,
      buckets: [
        [0.001, 10],
        [0.01, 80],
        [0.1, 100],
        [Infinity, 100],
      ],
    });
  });

  it('interpolates a quantile inside its bucket, as Prometheus does', () => {
    const buckets: Array<[number, number]> = [
      [0.001, 10],
      [0.01, 80],
      [0.1, 100],
      [Infinity, 100],
    ];
    expect(quantile(0.5, buckets)).toBeCloseTo(0.001 + (0.009 * 40) / 70, 9);
    expect(quantile(0.99, buckets)).toBeCloseTo(0.01 + (0.09 * 19) / 20, 9);
    expect(quantile(0.5, [[Infinity, 0]])).toBeNull();
  });

  it('turns two readings into calls per second, p50/p99 and the error rate of the calls between them', () => {
    const before = parseRpcSeries(metricsText([10, 10, 10, 10], 0));
    const now = parseRpcSeries(metricsText([10, 80, 100, 100], 10));
    const w = rpcWindow(now, before, 4, isConvert);
    expect(w.callsPerS).toBe(25); // (100 + 10 - 10) calls in 4 s
    expect(w.errorRate).toBe(0.1);
    expect(w.p50Ms).toBeGreaterThan(1);
    expect(w.p50Ms).toBeLessThan(10);
    expect(w.p99Ms).toBeGreaterThan(10);
  });

  it('shows no latency and no error rate for a window without calls', () => {
    const reading = parseRpcSeries(metricsText([10, 80, 100, 100], 0));
    expect(rpcWindow(reading, reading, 2, isConvert)).toEqual({
      callsPerS: 0,
      p50Ms: null,
      p99Ms: null,
      errorRate: null,
    });
  });
});
