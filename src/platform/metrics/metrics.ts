// Prometheus metrics shared by the HTTP edge and the RPC transport: latency histograms by route/pattern and outcome.
import { Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();

const buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export const httpDuration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'HTTP request latency by route and outcome',
  labelNames: ['method', 'route', 'status', 'outcome'] as const,
  buckets,
  registers: [registry],
});

export const rpcDuration = new Histogram({
  name: 'rpc_call_duration_seconds',
  help: 'RPC latency by pattern, side (client/server), transport and outcome',
  labelNames: ['pattern', 'side', 'transport', 'outcome'] as const,
  buckets,
  registers: [registry],
});

let defaultsStarted = false;
export function startDefaultMetrics(role: string): void {
  if (defaultsStarted) return;
  defaultsStarted = true;
  registry.setDefaultLabels({ role });
  collectDefaultMetrics({ register: registry });
}
