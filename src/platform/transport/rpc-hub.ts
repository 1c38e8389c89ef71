// The one way to call another part: in-process when the part is booted here (serialised copies, same errors),
// otherwise over Nest TCP to the role that hosts it. Timeouts, retries of idempotent patterns, metrics, the request
// id and the trace context (a client span per call, carried in the packet's metadata) are handled here for every
// caller.
import { Injectable } from '@nestjs/common';
import { SpanKind, context, type Span } from '@opentelemetry/api';
import { ATTR_RPC_METHOD, ATTR_RPC_SYSTEM_NAME } from '@opentelemetry/semantic-conventions';
import { BootContext } from '../boot-context.js';
import { backoffDelay } from '../backoff.util.js';
import { AppError } from '../errors/app-error.js';
import { createLogger } from '../logging/logger.js';
import { currentRequestId, newRequestId } from '../logging/request-context.js';
import { observeRpc } from '../metrics/metrics.js';
import { failSpan, injectSpan, platformTracer } from '../tracing/tracing.js';
import type { CallOptions, ContractDef, PartName, PatternDef, RpcChannel } from './contract.js';
import { jsonCopy } from './json-copy.js';
import { RPC_SYSTEM, type RpcCarrier } from './rpc-handler.decorator.js';
import { RpcRegistry } from './rpc-registry.js';
import { clientTlsOptions } from './rpc-tls.js';
import { TcpPool } from './tcp-pool.js';
import { unavailable } from './tcp-connection.js';

const RETRIABLE = new Set(['peer_unavailable', 'rpc_timeout']);
const RETRY_BACKOFF = { initialMs: 50, maxMs: 1000 };
export const PING_PATTERN = 'platform.ping';

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface PeerState {
  part: PartName;
  role: string;
  local: boolean;
  up: boolean;
  connections: Array<{ address: string; state: string }>;
}

@Injectable()
export class RpcHub {
  private readonly log = createLogger('rpc-client');
  private readonly pools = new Map<PartName, TcpPool>();

  constructor(
    private readonly boot: BootContext,
    private readonly registry: RpcRegistry,
  ) {}

  /** Opens connections to every remote peer a booted part calls. */
  async start(): Promise<void> {
    for (const peer of this.boot.peers.values()) {
      const tls = clientTlsOptions(this.boot.platform, peer.role);
      const pool = new TcpPool({
        name: peer.role,
        addresses: peer.addresses,
        tls,
        maxMessageChars: this.boot.platform.rpcMaxMessageBytes,
        resolveEveryMs: this.boot.platform.rpcResolveEveryMs,
        onEvent: (e) =>
          e.state === 'down'
            ? this.log.warn({ peer: peer.role, address: e.address, error: e.error }, 'peer connection down')
            : this.log.info({ peer: peer.role, address: e.address, state: e.state }, 'peer connection'),
      });
      this.pools.set(peer.part, pool);
      await pool.start();
    }
  }

  channel(contract: ContractDef): RpcChannel {
    return { call: (def, req, opts) => this.call(contract.part, def, req, opts) };
  }

  async call<Req, Res>(
    part: PartName,
    def: PatternDef<Req, Res>,
    req: Req,
    opts?: CallOptions,
  ): Promise<Res> {
    const requestId = currentRequestId() ?? newRequestId();
    const parent = context.active();
    const span = platformTracer().startSpan(def.pattern, { kind: SpanKind.CLIENT }, parent);
    if (span.isRecording()) {
      span.setAttribute(ATTR_RPC_SYSTEM_NAME, RPC_SYSTEM);
      span.setAttribute(ATTR_RPC_METHOD, def.pattern);
    }
    const carrier: Record<string, string> = { requestId };
    injectSpan(span, carrier);
    const timeoutMs = opts?.timeoutMs ?? this.boot.platform.rpcTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    const local = this.boot.isLocal(part);
    const transport = local ? 'local' : 'tcp';
    const started = process.hrtime.bigint();
    for (let attempt = 0; ; attempt++) {
      const remaining = Math.max(1, deadline - Date.now());
      try {
        const res = local
          ? await this.callLocal(def.pattern, req, carrier, remaining)
          : await this.callRemote(part, def.pattern, req, carrier, remaining);
        this.observe(def.pattern, transport, 'ok', started, span);
        return res as Res;
      } catch (e) {
        const err =
          e instanceof AppError ? e : new AppError(502, 'rpc_error', String((e as Error)?.message ?? e));
        const backoff = backoffDelay(attempt + 1, RETRY_BACKOFF);
        const retry =
          def.idempotent &&
          RETRIABLE.has(err.code) &&
          attempt < this.boot.platform.rpcRetries &&
          Date.now() + backoff < deadline;
        if (!retry) {
          failSpan(span, err.code, true, err.message);
          this.observe(def.pattern, transport, err.status >= 500 ? 'error' : 'rejected', started, span);
          if (err.status >= 500)
            this.log.warn({ pattern: def.pattern, code: err.code, err: err.message }, 'rpc failed');
          throw err;
        }
        await sleep(backoff);
      }
    }
  }

  private observe(pattern: string, transport: string, outcome: string, started: bigint, span: Span): void {
    span.end();
    observeRpc(pattern, 'client', transport, outcome, Number(process.hrtime.bigint() - started) / 1e9);
  }

  private callLocal(pattern: string, req: unknown, carrier: RpcCarrier, timeoutMs: number): Promise<unknown> {
    // One promise per call (Promise.race would add two more; the handler itself adds none), and a timer only for a
    // handler still running after it returned. A payload that cannot be copied throws inside the executor: a
    // rejection like any other.
    return new Promise((resolve, reject) => {
      const handler = this.registry.get(pattern);
      if (!handler)
        return reject(new AppError(501, 'no_handler', `no handler for ${pattern} in this process`));
      const payload = jsonCopy(req);
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      handler.meta.call(handler.instance, payload, carrier, 'local', (err, result) => {
        settled = true;
        if (timer) clearTimeout(timer);
        // A fresh error, as if it had crossed the wire: callers cannot tell local from remote.
        if (err) return reject(AppError.fromWire(err.toWire()));
        try {
          resolve(jsonCopy(result));
        } catch (e) {
          reject(e);
        }
      });
      if (!settled)
        timer = setTimeout(
          () => reject(new AppError(504, 'rpc_timeout', `${pattern} timed out after ${timeoutMs} ms`)),
          timeoutMs,
        );
    });
  }

  private callRemote(
    part: PartName,
    pattern: string,
    req: unknown,
    carrier: Record<string, string>,
    timeoutMs: number,
  ) {
    const pool = this.pools.get(part);
    if (!pool) return Promise.reject(unavailable(part, 'no peer configured'));
    return pool.send(pattern, req, carrier, timeoutMs);
  }

  /** Readiness probe for a peer: a real round trip with a bounded time. */
  async ping(part: PartName, timeoutMs: number): Promise<void> {
    if (this.boot.isLocal(part)) return;
    const pool = this.pools.get(part);
    if (!pool) throw unavailable(part, 'no peer configured');
    await pool.send(PING_PATTERN, {}, { requestId: currentRequestId() ?? newRequestId() }, timeoutMs);
  }

  peerStates(): PeerState[] {
    return [...this.boot.peers.values()].map((p) => {
      const pool = this.pools.get(p.part);
      return {
        part: p.part,
        role: p.role,
        local: false,
        up: pool?.isUp ?? false,
        connections: pool?.states() ?? [],
      };
    });
  }

  async close(): Promise<void> {
    for (const [part, pool] of this.pools) {
      const closed = await pool.close();
      for (const address of closed)
        this.log.info({ peer: part, address }, `closed rpc client ${part} ${address}`);
    }
    this.pools.clear();
  }
}
