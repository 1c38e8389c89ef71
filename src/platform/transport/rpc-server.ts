// The Nest TCP listener every role that serves patterns opens: Nest's own ServerTCP and wire format, with two
// hot-path costs removed — replies coalesced per tick (batching-json-socket.ts) and the pattern lookup below.
import { ServerTCP, type TcpOptions, type TcpSocket } from '@nestjs/microservices';
import { AppError } from '../errors/app-error.js';
import { createLogger } from '../logging/logger.js';
import { batchingJsonSocket } from './batching-json-socket.js';
import { callerRoles, type CallerPolicy } from './rpc-tls.js';

export interface RpcServerOptions extends NonNullable<TcpOptions['options']> {
  maxMessageBytes: number;
  /** With RPC_TLS=mutual: which caller roles may call each pattern (from the role table). */
  callers?: CallerPolicy;
}

export class RpcServer extends ServerTCP {
  private readonly callers?: CallerPolicy;
  private readonly log = createLogger('rpc-server');

  constructor(options: RpcServerOptions) {
    const { maxMessageBytes, callers, ...rest } = options;
    super({ ...rest, socketClass: batchingJsonSocket(maxMessageBytes) });
    this.callers = callers;
  }

  /** The one caller check: before Nest dispatches, the caller's certificate must name a role allowed the pattern. */
  override async handleMessage(socket: TcpSocket, raw: unknown): Promise<any> {
    if (this.callers) {
      const { id, pattern } = (raw ?? {}) as { id?: unknown; pattern?: unknown };
      const name = typeof pattern === 'string' ? pattern : JSON.stringify(pattern);
      const roles = callerRoles(socket.netSocket);
      const allowed = this.callers(name);
      if (!roles.some((r) => allowed?.has(r))) {
        this.log.warn(
          { pattern: name, caller: roles, remote: socket.netSocket.remoteAddress },
          `refused rpc caller ${roles.join(',') || '(no role)'} for ${name}`,
        );
        const err = new AppError(403, 'caller_not_allowed', `${name} may not be called by this caller`);
        if (id !== undefined) socket.sendMessage({ id, err: err.toWire(), isDisposed: true });
        return;
      }
    }
    return super.handleMessage(socket, raw);
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
