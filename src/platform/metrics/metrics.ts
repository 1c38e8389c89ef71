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

type Observer = { observe(v: number): void };
const rpcChildren = new Map<string, Observer>();
const httpChildren = new Map<string, Observer>();

/** Observes with a cached labelled child: label hashing on every call costs more than the observation. */
export function observeRpc(
  pattern: string,
  side: string,
  transport: string,
  outcome: string,
  seconds: number,
): void {
  const key = `${pattern}\0${side}\0${transport}\0${outcome}`;
  let child = rpcChildren.get(key);
  if (!child) rpcChildren.set(key, (child = rpcDuration.labels(pattern, side, transport, outcome)));
  child.observe(seconds);
}

export function observeHttp(method: string, route: string, status: number, seconds: number): void {
  const key = `${method}\0${route}\0${status}`;
  let child = httpChildren.get(key);
  if (!child) {
    const outcome = status >= 500 ? 'error' : status >= 400 ? 'rejected' : 'ok';
    httpChildren.set(key, (child = httpDuration.labels(method, route, String(status), outcome)));
  }
  child.observe(seconds);
}
