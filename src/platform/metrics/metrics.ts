// Prometheus metrics shared by the HTTP edge and the RPC transport: latency histograms by route/pattern and outcome.
import { Registry, collectDefaultMetrics } from 'prom-client';
import { checkPromClientProtocol, LabelledHistogram } from '../internals/prom-client.js';

export const registry = new Registry();

const buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

const httpDuration = new LabelledHistogram(
  registry,
  'http_request_duration_seconds',
  'HTTP request latency by route and outcome',
  ['method', 'route', 'status', 'outcome'],
  buckets,
);

const rpcDuration = new LabelledHistogram(
  registry,
  'rpc_call_duration_seconds',
  'RPC latency by pattern, side (client/server), transport and outcome',
  ['pattern', 'side', 'transport', 'outcome'],
  buckets,
);

let defaultsStarted = false;
/** Called once at boot; stops it when prom-client no longer renders the platform's histograms as its own. */
export async function startDefaultMetrics(role: string): Promise<void> {
  if (defaultsStarted) return;
  defaultsStarted = true;
  await checkPromClientProtocol();
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
