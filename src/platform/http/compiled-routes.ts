// A route that declares no guard, interceptor, filter or pipe of its own is served by a handler compiled once at
// boot from its Nest metadata: the same parameters, the same DtoValidationPipe step, the same status, headers and
// reply, the same problem on a throw. Nest's per-request pipeline (context creation, guard/interceptor consumers,
// pipe chains, the response controller) costs more than the route itself on small handlers, and none of its steps
// does anything for such a route. Routes that need any of them (@UseGuards behind @Protected(), @Res without
// passthrough, @Sse, @Redirect, custom parameter decorators) keep Nest's pipeline untouched.
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { RequestMethod } from '@nestjs/common';
import { ApplicationConfig, DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { isObservable, lastValueFrom } from 'rxjs';
import {
  checkNestRouteMetadata,
  NEST_ROUTE_KEYS as KEY,
  RouteParamtypes,
} from '../internals/nest-route-metadata.js';
import { isDtoClass, validateDto } from '../validation/validate.js';
import { DtoValidationPipe } from '../validation/validation.pipe.js';
import { ProblemFilter, sendProblem } from './problem.filter.js';

/** The route config key that carries the controller method to Fastify's onRoute hook. */
const ROUTE_METHOD = 'polyroleHandler';

type Extract = (req: FastifyRequest, reply: FastifyReply) => unknown;
type FastHandler = (req: FastifyRequest, reply: FastifyReply) => Promise<unknown> | undefined;

interface ArgMeta {
  index: number;
  data?: unknown;
  pipes?: unknown[];
}

interface Adapter {
  reply(reply: FastifyReply, body: unknown, status?: number): unknown;
}

/** Only the enhancers the HTTP edge itself installs may be global; anything else sends every route through Nest. */
function globalsAllowCompiling(app: NestFastifyApplication): boolean {
  const config = app.get(ApplicationConfig);
  const none = (list: unknown[] | undefined) => !list || list.length === 0;
  return (
    none(config.getGlobalGuards()) &&
    none(config.getGlobalInterceptors()) &&
    none(config.getGlobalRequestGuards()) &&
    none(config.getGlobalRequestInterceptors()) &&
    none(config.getGlobalRequestFilters()) &&
    none(config.getGlobalRequestPipes()) &&
    none(config.getGlobalPreRequestHooks()) &&
    config.getGlobalFilters().every((f) => f instanceof ProblemFilter) &&
    config.getGlobalPipes().every((p) => p instanceof DtoValidationPipe)
  );
}

function hasAny(key: string, ...targets: object[]): boolean {
  return targets.some((t) => {
    const v = Reflect.getMetadata(key, t) as unknown;
    return Array.isArray(v) ? v.length > 0 : v !== undefined;
  });
}

/** The argument getter Nest's RouteParamsFactory would use, plus the DtoValidationPipe step for bodies and queries. */
function extractor(type: number, data: unknown, metatype: unknown): Extract | undefined {
  const key = typeof data === 'string' ? data : undefined;
  if (data !== undefined && key === undefined) return undefined;
  const dto = isDtoClass(metatype) ? metatype : undefined;
  switch (type) {
    case RouteParamtypes.REQUEST:
      return (req) => req;
    case RouteParamtypes.RESPONSE:
      return (_req, reply) => reply;
    case RouteParamtypes.BODY: {
      const get = (req: FastifyRequest) => (key ? (req.body as Record<string, unknown>)?.[key] : req.body);
      return dto ? (req) => validateDto(dto, get(req)) : get;
    }
    case RouteParamtypes.QUERY: {
      const get = (req: FastifyRequest) => (key ? (req.query as Record<string, unknown>)?.[key] : req.query);
      return dto ? (req) => validateDto(dto, get(req) ?? {}) : get;
    }
    case RouteParamtypes.PARAM:
      return (req) => (key ? (req.params as Record<string, unknown>)?.[key] : req.params);
    case RouteParamtypes.HEADERS: {
      const lower = key?.toLowerCase();
      return (req) => (lower ? req.headers[lower] : req.headers);
    }
    default:
      return undefined;
  }
}

/** A body Nest's adapter would hand to reply.send() unchanged: a plain object or array, a primitive, nothing. */
function isPlainBody(body: unknown): boolean {
  if (body === null || typeof body !== 'object') return typeof body !== 'function';
  const proto = Object.getPrototypeOf(body) as unknown;
  return proto === Object.prototype || proto === Array.prototype;
}

function compile(
  instance: object,
  cls: Function,
  name: string,
  method: (...args: unknown[]) => unknown,
  adapter: Adapter,
  limits: { bodyLimit: number },
): FastHandler | undefined {
  if (
    hasAny(KEY.GUARDS, cls, method) ||
    hasAny(KEY.INTERCEPTORS, cls, method) ||
    hasAny(KEY.PIPES, cls, method) ||
    hasAny(KEY.EXCEPTION_FILTERS, cls, method) ||
    hasAny(KEY.SSE, method) ||
    hasAny(KEY.REDIRECT, method) ||
    hasAny(KEY.RENDER, method)
  ) {
    return undefined;
  }
  const args = (Reflect.getMetadata(KEY.ROUTE_ARGS, cls, name) ?? {}) as Record<string, ArgMeta>;
  const paramtypes = (Reflect.getMetadata('design:paramtypes', cls.prototype, name) ?? []) as unknown[];
  const passthrough = Reflect.getMetadata(KEY.RESPONSE_PASSTHROUGH, cls, name) === true;
  const extractors: Extract[] = [];
  for (const [key, meta] of Object.entries(args)) {
    if (key.includes(KEY.CUSTOM_ROUTE_ARGS) || (meta.pipes?.length ?? 0) > 0) return undefined;
    const type = Number(key.split(':')[0]);
    if (type === RouteParamtypes.RESPONSE && !passthrough) return undefined;
    const get = extractor(type, meta.data, paramtypes[meta.index]);
    if (!get) return undefined;
    extractors[meta.index] = get;
  }
  for (let i = 0; i < extractors.length; i++) extractors[i] ??= () => undefined;

  const requestMethod = Reflect.getMetadata(KEY.METHOD, method) as RequestMethod;
  const status =
    (Reflect.getMetadata(KEY.HTTP_CODE, method) as number | undefined) ??
    (requestMethod === RequestMethod.POST ? 201 : 200);
  const headers = (Reflect.getMetadata(KEY.HEADERS, method) ?? []) as Array<{
    name: string;
    value: string | (() => string);
  }>;

  // What Nest's adapter.reply() does with a plain JSON body when nothing set a content type: reply.send(body). Its
  // other cases (a StreamableFile, an Error body, a non-JSON content type) take the adapter.
  const direct = headers.length === 0 && !passthrough;
  const send = (reply: FastifyReply, result: unknown): unknown =>
    direct && isPlainBody(result) ? reply.send(result) : adapter.reply(reply, result);

  const settle = async (req: FastifyRequest, reply: FastifyReply, pending: unknown) => {
    try {
      let result = isObservable(pending) ? await lastValueFrom(pending) : await pending;
      if (isObservable(result)) result = await lastValueFrom(result);
      await send(reply, result);
    } catch (err) {
      sendProblem(err, req, reply, limits);
    }
    return reply;
  };
  // No async wrapper: a synchronous method is answered without creating a promise (each one captures the request
  // context and is one more allocation); Fastify leaves a handler that returns undefined to send its reply.
  return (req, reply) => {
    try {
      reply.status(status);
      for (const h of headers) reply.header(h.name, typeof h.value === 'function' ? h.value() : h.value);
      const values = new Array<unknown>(extractors.length);
      for (let i = 0; i < extractors.length; i++) values[i] = extractors[i](req, reply);
      const result = method.apply(instance, values);
      if (
        isObservable(result) ||
        (result !== null && typeof (result as Promise<unknown>)?.then === 'function')
      )
        return settle(req, reply, result);
      const sent = send(reply, result) as Promise<unknown> | undefined;
      if (sent !== (reply as unknown) && typeof sent?.then === 'function')
        return sent.then(
          () => reply,
          (err: unknown) => (sendProblem(err, req, reply, limits), reply),
        );
    } catch (err) {
      sendProblem(err, req, reply, limits);
    }
    return undefined;
  };
}

/**
 * Compiles every eligible controller route of the app and swaps it in when Nest registers the route with Fastify.
 * Call after the global filter and pipe are installed and before app.init() registers the routes. Returns the
 * compiled routes as `Controller.method`.
 */
export function compileRoutes(app: NestFastifyApplication, limits: { bodyLimit: number }): string[] {
  checkNestRouteMetadata();
  if (!globalsAllowCompiling(app)) return [];
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  const adapter = app.getHttpAdapter() as unknown as Adapter;
  const discovery = app.get(DiscoveryService);
  const scanner = app.get(MetadataScanner);
  const compiled = new Map<Function, FastHandler>();
  const names: string[] = [];
  for (const wrapper of discovery.getControllers()) {
    const instance = wrapper.instance as object | undefined;
    const cls = wrapper.metatype as Function | undefined;
    if (!instance || !cls || !wrapper.isDependencyTreeStatic()) continue;
    for (const name of scanner.getAllMethodNames(cls.prototype)) {
      const method = cls.prototype[name] as (...args: unknown[]) => unknown;
      if (Reflect.getMetadata(KEY.PATH, method) === undefined) continue;
      if (Reflect.getMetadata(KEY.METHOD, method) === undefined) continue;
      const handler = compile(instance, cls, name, method, adapter, limits);
      if (!handler) continue;
      compiled.set(method, handler);
      names.push(`${cls.name}.${name}`);
      const config = (Reflect.getMetadata(KEY.FASTIFY_ROUTE_CONFIG, method) ?? {}) as object;
      Reflect.defineMetadata(KEY.FASTIFY_ROUTE_CONFIG, { ...config, [ROUTE_METHOD]: method }, method);
    }
  }
  fastify.addHook('onRoute', (route: RouteOptions) => {
    const method = (route.config as Record<string, unknown> | undefined)?.[ROUTE_METHOD] as
      Function | undefined;
    const handler = method && compiled.get(method);
    if (!handler) return;
    const url = String(route.url);
    // Nest's adapter sends a request with an empty route parameter to the not-found handler; so does this.
    route.handler = url.includes(':')
      ? (req, reply) => {
          const params = req.params as Record<string, string>;
          for (const p in params) if (params[p] === '' && p !== '*') return reply.callNotFound();
          return handler(req, reply);
        }
      : handler;
  });
  return names;
}
