// Connections to every replica of one peer role. A peer setting may list several host:port addresses, and each
// host name is re-resolved periodically (a headless Service yields one address per pod), so calls spread over
// replicas instead of sticking to the one connection a Service would balance.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { HostPort } from '../config/parsers.js';
import { TcpConnection, unavailable, type ConnectionState } from './tcp-connection.js';

export interface PoolOptions {
  name: string;
  addresses: HostPort[];
  tls?: ConnectionOptions;
  maxMessageChars: number;
  resolveEveryMs: number;
  onEvent?: (event: { address: string; state: ConnectionState | 'removed'; error?: string }) => void;
}

export class TcpPool {
  private readonly conns = new Map<string, TcpConnection>();
  private rr = 0;
  private resolveTimer?: NodeJS.Timeout;

  constructor(private readonly opts: PoolOptions) {}

  async start(): Promise<void> {
    await this.resolve();
    if (this.opts.addresses.some((a) => !isIP(a.host)) && this.opts.resolveEveryMs > 0) {
      this.resolveTimer = setInterval(() => void this.resolve(), this.opts.resolveEveryMs);
      this.resolveTimer.unref();
    }
  }

  private async resolve(): Promise<void> {
    const wanted = new Map<string, { host: string; port: number }>();
    for (const { host, port } of this.opts.addresses) {
      let ips: string[] = [host];
      if (!isIP(host)) {
        try {
          ips = (await lookup(host, { all: true })).map((r) => r.address);
        } catch {
          ips = [host]; // unresolvable for now: keep a connection that reports the failure and retries
        }
      }
      for (const ip of ips) wanted.set(`${ip}:${port}`, { host: ip, port });
    }
    for (const [key, conn] of this.conns) {
      if (!wanted.has(key) && wanted.size > 0) {
        this.conns.delete(key);
        void conn.close();
        this.opts.onEvent?.({ address: key, state: 'removed' });
      }
    }
    for (const [key, addr] of wanted) {
      if (this.conns.has(key)) continue;
      const conn = new TcpConnection({
        ...addr,
        tls: this.opts.tls,
        maxMessageChars: this.opts.maxMessageChars,
        onStateChange: (state, err) => this.opts.onEvent?.({ address: key, state, error: err?.message }),
      });
      this.conns.set(key, conn);
      conn.start();
    }
  }

  /** The least busy connection that is up, round-robin among equals; else one still connecting. */
  private pick(): TcpConnection | undefined {
    const all = [...this.conns.values()];
    if (all.length === 0) return undefined;
    const up = all.filter((c) => c.state === 'up');
    const candidates = up.length > 0 ? up : all.filter((c) => c.state === 'connecting');
    if (candidates.length === 0) return all[this.rr++ % all.length];
    this.rr = (this.rr + 1) % candidates.length;
    let best = candidates[this.rr];
    for (const c of candidates) if (c.inFlight < best.inFlight) best = c;
    return best;
  }

  send(
    pattern: string,
    data: unknown,
    metadata: Record<string, string>,
    timeoutMs: number,
  ): Promise<unknown> {
    const conn = this.pick();
    if (!conn) return Promise.reject(unavailable(this.opts.name, 'no address'));
    return conn.send(pattern, data, metadata, timeoutMs);
  }

  states(): Array<{ address: string; state: ConnectionState }> {
    return [...this.conns.entries()].map(([address, c]) => ({ address, state: c.state }));
  }

  get isUp(): boolean {
    return [...this.conns.values()].some((c) => c.state === 'up');
  }

  async close(): Promise<string[]> {
    if (this.resolveTimer) clearInterval(this.resolveTimer);
    const closed = [...this.conns.keys()];
    await Promise.all([...this.conns.values()].map((c) => c.close()));
    this.conns.clear();
    return closed;
  }
}
