// @RpcHandler(contract.patterns.x) marks a controller method as the handler of a pattern. The same wrapped
// function serves the Nest TCP listener and in-process calls: it validates the payload against the method's DTO,
// runs in the caller's request context, records metrics and turns every failure into a wire error.
import { Ctx, MessagePattern, Payload, RpcException, type TcpContext } from '@nestjs/microservices';
import 'reflect-metadata';
import { AppError } from '../errors/app-error.js';
import { accessLogEnabled, createLogger } from '../logging/logger.js';
import { acceptRequestId, requestContext } from '../logging/request-context.js';
import { observeRpc } from '../metrics/metrics.js';
import { isDtoClass, validateDto } from '../validation/validate.js';
import type { PatternDef } from './contract.js';

export const RPC_HANDLER = Symbol('polyrole:rpc-handler');

/** How a handler's outcome is handed back: an AppError, or undefined and the result. */
export type RpcDone = (err: AppError | undefined, result?: unknown) => void;

export interface RpcHandlerMeta {
  def: PatternDef;
  /** Runs the handler on `instance` with a raw payload; resolves with the result or rejects with an AppError. */
  run(
    instance: object,
    data: unknown,
    requestId: string | undefined,
    transport: 'tcp' | 'local',
  ): Promise<unknown>;
  /** The same as run, answered through `done`: a synchronous handler settles without any promise at all. */
  call(
    instance: object,
    data: unknown,
    requestId: string | undefined,
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

export function RpcHandler(def: PatternDef): MethodDecorator {
  return (target, key, descriptor: PropertyDescriptor) => {
    const original = descriptor.value as (payload: unknown) => unknown;
    const [paramType] = (Reflect.getMetadata('design:paramtypes', target, key) ?? []) as unknown[];
    const dto = isDtoClass(paramType) ? paramType : undefined;

    const call: RpcHandlerMeta['call'] = (instance, data, rid, transport, done) => {
      const requestId = acceptRequestId(rid);
      const started = process.hrtime.bigint();
      const finish = (outcome: string) => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        observeRpc(def.pattern, 'server', transport, outcome, seconds);
        if (accessLogEnabled())
          log.info({ pattern: def.pattern, transport, outcome, ms: seconds * 1000 }, 'rpc handled');
      };
      const fail = (err: unknown) => {
        const e = toAppError(err);
        finish(e.status >= 500 ? 'error' : 'rejected');
        done(e);
      };
      // Every promise costs a promise-hook round once the request context is in use: a synchronous handler
      // settles through `done` with none.
      requestContext.run({ requestId }, () => {
        let result: unknown;
        try {
          result = original.call(instance, dto ? validateDto(dto, data) : data);
        } catch (err) {
          return fail(err);
        }
        if (typeof (result as Promise<unknown> | undefined)?.then === 'function') {
          (result as Promise<unknown>).then((value) => {
            finish('ok');
            done(undefined, value);
          }, fail);
          return;
        }
        finish('ok');
        done(undefined, result);
      });
    };
    const meta: RpcHandlerMeta = {
      def,
      call,
      run: (instance, data, rid, transport) =>
        new Promise((resolve, reject) =>
          call(instance, data, rid, transport, (err, result) => (err ? reject(err) : resolve(result))),
        ),
    };

    // What the Nest TCP listener calls: (data, context) with the caller's metadata on the context.
    descriptor.value = function (this: object, data: unknown, ctx?: TcpContext) {
      const metadata = ctx?.getMetadata?.() as Record<string, unknown> | undefined;
      return meta.run(this, data, metadata?.requestId as string | undefined, 'tcp').catch((err: unknown) => {
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
