import { Histogram, Registry } from 'prom-client';
import { observeHttp, observeRpc, registry } from './metrics.js';

const buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** The same observations through prom-client's own Histogram, the exposition ours must reproduce. */
async function stockExposition(
  name: string,
  help: string,
  labelNames: string[],
  observations: Array<[string[], number]>,
): Promise<string> {
  const stock = new Registry();
  const h = new Histogram({ name, help, labelNames, buckets, registers: [stock] });
  for (const [labels, v] of observations) h.labels(...labels).observe(v);
  return stock.getSingleMetricAsString(name);
}

describe('metrics', () => {
  it('renders the HTTP histogram exactly as prom-client does for the same observations', async () => {
    const seen: Array<[string[], number]> = [
      [['POST', '/exchange', '200', 'ok'], 0.0004],
      [['POST', '/exchange', '200', 'ok'], 0.03],
      [['POST', '/exchange', '400', 'rejected'], 7],
      [['GET', 'unmatched', '503', 'error'], 0.002],
    ];
    for (const [[method, route, status], v] of seen) observeHttp(method, route, Number(status), v);
    expect(await registry.getSingleMetricAsString('http_request_duration_seconds')).toBe(
      await stockExposition(
        'http_request_duration_seconds',
        'HTTP request latency by route and outcome',
        ['method', 'route', 'status', 'outcome'],
        seen,
      ),
    );
  });

  it('renders the RPC histogram exactly as prom-client does for the same observations', async () => {
    const seen: Array<[string[], number]> = [
      [['exchange.convert', 'client', 'tcp', 'ok'], 0.001],
      [['exchange.convert', 'server', 'local', 'rejected'], 0.2],
    ];
    for (const [[p, side, t, o], v] of seen) observeRpc(p, side, t, o, v);
    expect(await registry.getSingleMetricAsString('rpc_call_duration_seconds')).toBe(
      await stockExposition(
        'rpc_call_duration_seconds',
        'RPC latency by pattern, side (client/server), transport and outcome',
        ['pattern', 'side', 'transport', 'outcome'],
        seen,
      ),
    );
  });
});
