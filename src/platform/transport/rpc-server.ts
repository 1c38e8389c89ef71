// The Nest TCP listener every role that serves patterns opens: Nest's own ServerTCP and wire format, with three
// hot-path costs removed — replies coalesced per tick (batching-json-socket.ts), the pattern lookup below, and
// Nest's per-message pipeline for the patterns an @RpcHandler serves (answered straight from that handler).
import { ServerTCP, type TcpOptions, type TcpSocket } from '@nestjs/microservices';
import { AppError } from '../errors/app-error.js';
import { assumeNestTcpTransport } from '../internals/nest-microservices.js';
import { createLogger } from '../logging/logger.js';
import { batchingJsonSocket } from './batching-json-socket.js';
import type { RpcCarrier } from './rpc-handler.decorator.js';
import type { LocalHandler } from './rpc-registry.js';
import { callerRoles, type CallerPolicy } from './rpc-tls.js';

interface Packet {
  id?: unknown;
  pattern?: unknown;
  data?: unknown;
  metadata?: RpcCarrier;
}

const HANDLED = Promise.resolve();

/** The longest pattern name the caller check reads; the role table's names are a few dozen characters. */
const MAX_PATTERN_NAME = 512;

/**
 * A pattern's name for the caller check: the string itself, or an object pattern's JSON text; undefined when it has
 * no name of at most MAX_PATTERN_NAME characters (JSON.stringify's depth limit differs between Node versions, so a
 * deep pattern is measured, not left to it).
 */
function patternName(pattern: unknown): string | undefined {
  let name: string | undefined;
  try {
    name = typeof pattern === 'string' ? pattern : JSON.stringify(pattern);
  } catch {
    return undefined;
  }
  return name !== undefined && name.length <= MAX_PATTERN_NAME ? name : undefined;
}

export interface RpcServerOptions extends NonNullable<TcpOptions['options']> {
  maxMessageBytes: number;
  /** With RPC_TLS=mutual: which caller roles may call each pattern (from the role table). */
  callers?: CallerPolicy;
}

export class RpcServer extends ServerTCP {
  private readonly callers?: CallerPolicy;
  private readonly log = createLogger('rpc-server');
  private handlers?: (pattern: string) => LocalHandler | undefined;

  constructor(options: RpcServerOptions) {
    const { maxMessageBytes, callers, ...rest } = options;
    assumeNestTcpTransport();
    super({ ...rest, socketClass: batchingJsonSocket(maxMessageBytes) });
    this.callers = callers;
  }

  /**
   * The @RpcHandler methods of the booted modules (RpcRegistry), called before the listener starts. A request for
   * one of their patterns is answered by the handler itself, which already validates, runs in the caller's request
   * context, records metrics and shapes errors: Nest's per-message pipeline (context host, processing hooks, the
   * rxjs reply stream, a promise at each step) adds nothing to that but cost, as no guard, interceptor, pipe or
   * filter is bound to the listener. The reply packets are the ones Nest sends. Events and other patterns go
   * through Nest.
   */
  useHandlers(lookup: (pattern: string) => LocalHandler | undefined): void {
    this.handlers = lookup;
  }

  /** Nest's contract: a failure is a rejection (its caller logs it), never a throw out of the socket's listener. */
  override handleMessage(socket: TcpSocket, raw: unknown): Promise<any> {
    try {
      return this.dispatch(socket, raw);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** The one caller check: before anything dispatches, the caller's certificate must name a role allowed the pattern. */
  private dispatch(socket: TcpSocket, raw: unknown): Promise<any> {
    const packet = (raw ?? {}) as Packet;
    const { id, pattern } = packet;
    if (this.callers) {
      const name = patternName(pattern);
      if (name === undefined) {
        const err = new AppError(
          400,
          'invalid_pattern',
          `the pattern must be a name of at most ${MAX_PATTERN_NAME} characters`,
        );
        if (id !== undefined) socket.sendMessage({ id, err: err.toWire(), isDisposed: true });
        return HANDLED;
      }
      const roles = callerRoles(socket.netSocket);
      const allowed = this.callers(name);
      if (!roles.some((r) => allowed?.has(r))) {
        this.log.warn(
          { pattern: name, caller: roles, remote: socket.netSocket.remoteAddress },
          `refused rpc caller ${roles.join(',') || '(no role)'} for ${name}`,
        );
        const err = new AppError(403, 'caller_not_allowed', `${name} may not be called by this caller`);
        if (id !== undefined) socket.sendMessage({ id, err: err.toWire(), isDisposed: true });
        return HANDLED;
      }
    }
    const handler = id !== undefined && typeof pattern === 'string' ? this.handlers?.(pattern) : undefined;
    if (!handler) return super.handleMessage(socket, raw);
    handler.meta.call(
      handler.instance,
      packet.data,
      packet.metadata && typeof packet.metadata === 'object' ? packet.metadata : undefined,
      'tcp',
      (err, result) => {
        try {
          socket.sendMessage(
            err
              ? { id, err: err.toWire(), isDisposed: true }
              : { id, err: null, response: result, isDisposed: true },
          );
        } catch (e) {
          this.handleError(String((e as Error)?.stack ?? e));
        }
      },
    );
    return HANDLED;
  }

  /**
   * Nest first tries JSON.parse on every incoming pattern; for a plain string pattern that throws, and building the
   * thrown error costs more than the call itself. Only object patterns (JSON text) need the parse.
   */
  protected override getRouteFromPattern(pattern: string): string {
    const first = pattern.charCodeAt(0);
    if (first !== 0x7b /* { */ && first !== 0x5b /* [ */ && first !== 0x22 /* " */)
      return this.normalizePattern(pattern);
    return super.getRouteFromPattern(pattern);
  }
}
