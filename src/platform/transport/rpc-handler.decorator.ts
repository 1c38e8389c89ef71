// @RpcHandler(contract.patterns.x) marks a controller method as the handler of a pattern. The same wrapped
// function serves the Nest TCP listener and in-process calls: it validates the payload against the method's DTO,
// runs in the caller's request context under a server span, records metrics and turns every failure into a wire
// error.
import { Ctx, MessagePattern, Payload, RpcException, type TcpContext } from '@nestjs/microservices';
import { ROOT_CONTEXT, context, trace, type Span } from '@opentelemetry/api';
import { ATTR_RPC_METHOD, ATTR_RPC_SYSTEM_NAME } from '@opentelemetry/semantic-conventions';
import 'reflect-metadata';
import { AppError } from '../errors/app-error.js';
import { accessLogEnabled, createLogger } from '../logging/logger.js';
import { acceptRequestId, withRequest } from '../logging/request-context.js';
import { observeRpc } from '../metrics/metrics.js';
import { failSpan, startServerSpan } from '../tracing/tracing.js';
import { isDtoClass, validateDto } from '../validation/validate.js';
import type { PatternDef } from './contract.js';

export const RPC_HANDLER = Symbol('polyrole:rpc-handler');

/** How a handler's outcome is handed back: an AppError, or undefined and the result. */
export type RpcDone = (err: AppError | undefined, result?: unknown) => void;

/**
 * What a call carries beside its payload (a Nest TCP packet's `metadata`): the request id and the caller's W3C trace
 * context. A stock Nest ServerTCP hands the whole object to its handlers' TcpContext and ignores what it does not
 * know. Everything is untrusted input: checked before use, ignored when unusable.
 */
export interface RpcCarrier {
  requestId?: unknown;
  traceparent?: unknown;
  tracestate?: unknown;
}

/** `rpc.system.name` of the platform's calls (Nest's TCP transport, or the same call made in-process). */
export const RPC_SYSTEM = 'nestjs_tcp';

export interface RpcHandlerMeta {
  def: PatternDef;
  /** Runs the handler on `instance` with a raw payload; resolves with the result or rejects with an AppError. */
  run(
    instance: object,
    data: unknown,
    carrier: RpcCarrier | undefined,
    transport: 'tcp' | 'local',
  ): Promise<unknown>;
  /** The same as run, answered through `done`: a synchronous handler settles without any promise at all. */
  call(
    instance: object,
    data: unknown,
    carrier: RpcCarrier | undefined,
    transport: 'tcp' | 'local',
    done: RpcDone,
  ): void;
}

const log = createLogger('rpc');

export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  log.error({ err }, 'unexpected error in RPC handler');
  return new AppError(500, 'internal', 'Internal error');
}

/**
 * One call in flight: its span, start time and answer. A class rather than closures made per call: fewer
 * allocations, and the bundle's name-keeping wraps every named closure it creates (docs/runtime.md, "Boot").
 */
class ServerCall {
  constructor(
    private readonly def: PatternDef,
    private readonly span: Span,
    private readonly transport: 'tcp' | 'local',
    private readonly done: RpcDone,
    /** process.hrtime.bigint() when the call came in, before its span was started. */
    private readonly started: bigint,
  ) {}

  succeed(result: unknown): void {
    this.finish('ok');
    this.done(undefined, result);
  }

  fail(err: unknown): void {
    const e = toAppError(err);
    failSpan(this.span, e.code, e.status >= 500, e.message);
    this.finish(e.status >= 500 ? 'error' : 'rejected');
    this.done(e);
  }

  private finish(outcome: string): void {
    this.span.end();
    const seconds = Number(process.hrtime.bigint() - this.started) / 1e9;
    observeRpc(this.def.pattern, 'server', this.transport, outcome, seconds);
    if (accessLogEnabled())
      log.info(
        { pattern: this.def.pattern, transport: this.transport, outcome, ms: seconds * 1000 },
        'rpc handled',
      );
  }
}

export function RpcHandler(def: PatternDef): MethodDecorator {
  return (target, key, descriptor: PropertyDescriptor) => {
    const original = descriptor.value as (payload: unknown) => unknown;
    const [paramType] = (Reflect.getMetadata('design:paramtypes', target, key) ?? []) as unknown[];
    const dto = isDtoClass(paramType) ? paramType : undefined;

    const call: RpcHandlerMeta['call'] = (instance, data, carrier, transport, done) => {
      const requestId = acceptRequestId(carrier?.requestId);
      const started = process.hrtime.bigint();
      const span = startServerSpan(def.pattern, carrier);
      if (span.isRecording()) {
        span.setAttribute(ATTR_RPC_SYSTEM_NAME, RPC_SYSTEM);
        span.setAttribute(ATTR_RPC_METHOD, def.pattern);
      }
      const served = new ServerCall(def, span, transport, done, started);
      // A synchronous handler settles through `done` without any promise (each one is an allocation that also
      // captures the request context).
      context.with(withRequest(trace.setSpan(ROOT_CONTEXT, span), { requestId }), () => {
        let result: unknown;
        try {
          result = original.call(instance, dto ? validateDto(dto, data) : data);
        } catch (err) {
          return served.fail(err);
        }
        if (typeof (result as Promise<unknown> | undefined)?.then === 'function') {
          (result as Promise<unknown>).then(
            (value) => served.succeed(value),
            (err: unknown) => served.fail(err),
          );
          return;
        }
        served.succeed(result);
      });
    };
    const meta: RpcHandlerMeta = {
      def,
      call,
      run: (instance, data, carrier, transport) =>
        new Promise((resolve, reject) =>
          call(instance, data, carrier, transport, (err, result) => (err ? reject(err) : resolve(result))),
        ),
    };

    // What the Nest TCP listener calls: (data, context) with the caller's metadata on the context.
    descriptor.value = function (this: object, data: unknown, ctx?: TcpContext) {
      const metadata = ctx?.getMetadata?.() as RpcCarrier | undefined;
      return meta.run(this, data, metadata, 'tcp').catch((err: unknown) => {
        throw new RpcException((err as AppError).toWire());
      });
    };
    Object.defineProperty(descriptor.value, 'name', { value: String(key) });
    Reflect.defineMetadata(RPC_HANDLER, meta, descriptor.value);
    MessagePattern(def.pattern)(target, key, descriptor);
    // Nest passes only the payload unless told otherwise; the context carries the caller's request id.
    Payload()(target, key, 0);
    Ctx()(target, key, 1);
    return descriptor;
  };
}
