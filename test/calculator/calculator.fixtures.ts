// Shared helpers of the calculator e2e suites: reading the event log back, gRPC status names.
import * as grpc from '@grpc/grpc-js';
import { getJson } from './calculator.clients.js';

export interface StoredEvent {
  seq: string;
  id: string;
  type: string;
  requestId: string;
  payload: any;
  createdAt: string;
  instance: string;
}

export function statusOf(name: string): grpc.status {
  return (grpc.status as unknown as Record<string, grpc.status>)[name];
}

/** The whole log, in order, through GET /calculator/events. */
export async function readLog(baseUrl: string): Promise<StoredEvent[]> {
  const all: StoredEvent[] = [];
  for (let after = '0'; ;) {
    const page = await getJson(baseUrl, `/calculator/events?after=${after}&limit=1000`);
    all.push(...page.body.events);
    if (page.body.events.length < 1000) return all;
    after = page.body.next;
  }
}

/**
 * The events of the given requests, grouped by request id, once each has its outcome stored (the buffer flushes
 * on its timer, so this polls for a bounded time).
 */
export async function eventsOf(baseUrl: string, requestIds: string[], timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const log = await readLog(baseUrl);
    const grouped: Record<string, StoredEvent[]> = Object.fromEntries(requestIds.map((id) => [id, []]));
    for (const e of log) grouped[e.requestId]?.push(e);
    const done = requestIds.every((id) =>
      grouped[id].some((e) => e.type === 'CalculationCompleted' || e.type === 'CalculationFailed'),
    );
    if (done || Date.now() > deadline) return grouped;
    await new Promise((r) => setTimeout(r, 50));
  }
}
