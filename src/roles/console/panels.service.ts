// The module panels' figures, read from each module's own HTTP endpoints on the process that hosts it (this one
// or another role), each read bounded. The console knows the modules only by those public paths.
import { Injectable } from '@nestjs/common';
import { DeploymentService } from './deployment.service.js';

/** Module part -> the paths its panel reads. */
const SOURCES = {
  exchange: { rates: '/exchange/rates' },
  calculator: { stats: '/calculator/stats' },
  transaction: { stats: '/transaction/stats' },
  master: { progress: '/master/progress', children: '/master/children' },
  'echo-server': { stats: '/echo/stats' },
} as const;

export type PanelPart = keyof typeof SOURCES;
const TAIL = 10;

export interface Panel {
  node: string | null;
  error?: string;
  data: Record<string, unknown>;
}

/** Streams the page may follow, proxied from the module that emits them. */
export const STREAMS = {
  exchange: { part: 'exchange', path: '/exchange/stream' },
  'calculator-notifications': { part: 'calculator', path: '/calculator/notifications' },
} as const;
export type StreamName = keyof typeof STREAMS;

@Injectable()
export class PanelsService {
  constructor(private readonly deployment: DeploymentService) {}

  /** The HTTP base URL of the process that hosts a module part, if one is up. */
  async hostOf(part: string): Promise<string | null> {
    const view = await this.deployment.view();
    return view.nodes.find((n) => n.up && n.modules.includes(part))?.url ?? null;
  }

  async panels(): Promise<Record<PanelPart, Panel>> {
    const entries = await Promise.all(
      (Object.keys(SOURCES) as PanelPart[]).map(async (part) => [part, await this.panel(part)] as const),
    );
    return Object.fromEntries(entries) as Record<PanelPart, Panel>;
  }

  private async panel(part: PanelPart): Promise<Panel> {
    const node = await this.hostOf(part);
    if (!node) return { node: null, data: {} };
    try {
      const data: Record<string, unknown> = {};
      await Promise.all(
        Object.entries(SOURCES[part]).map(async ([key, path]) => {
          const res = await this.deployment.fetchJson<unknown>(node, path);
          if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
          data[key] = res.body;
        }),
      );
      if (part === 'calculator') data.events = await this.calculatorTail(node, data.stats);
      return { node, data };
    } catch (e) {
      return {
        node,
        error: (e as Error).name === 'TimeoutError' ? 'no answer in time' : (e as Error).message,
        data: {},
      };
    }
  }

  /** The last events of the calculator's log, read from just before its last stored position. */
  private async calculatorTail(node: string, stats: unknown): Promise<unknown[]> {
    const last = BigInt((stats as { lastSeq?: string })?.lastSeq ?? '0');
    const after = last > BigInt(TAIL) ? last - BigInt(TAIL) : 0n;
    const res = await this.deployment.fetchJson<{ events: unknown[] }>(
      node,
      `/calculator/events?after=${after}&limit=${TAIL}`,
    );
    return res.status === 200 ? res.body.events : [];
  }
}
