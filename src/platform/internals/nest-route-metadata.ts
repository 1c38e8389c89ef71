// Nest's route metadata, read with the keys Nest's own router uses. They live in @nestjs/common/constants.js and
// enums/, and @nestjs/platform-fastify/constants.js, which Nest's "internal" entry point says application code must
// not depend on; no public API lists a controller method's route, status, headers, parameters and enhancers. The
// compiled routes (compiled-routes.ts) and the boot check that every route is marked public or protected
// (route-access.check.ts) read them only through this file, which first checks that Nest's public decorators still
// store what these keys read. A moved key would otherwise read as "no route" (the access check passing while
// blind) or "no guard" (a guarded route compiled without its guard).
import {
  Body,
  Catch,
  Controller,
  createParamDecorator,
  Header,
  Headers,
  HttpCode,
  Param,
  Post,
  Query,
  Redirect,
  Render,
  Req,
  RequestMethod,
  Res,
  Sse,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
} from '@nestjs/common';
import * as constants from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import { RouteConfig } from '@nestjs/platform-fastify';
import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants.js';
import { isDeepStrictEqual } from 'node:util';
import { assumeOf } from './library-assumption.js';

export { RouteParamtypes };

/** The metadata keys the platform reads, as the installed Nest defines them. */
export const NEST_ROUTE_KEYS = {
  PATH: constants.PATH_METADATA,
  METHOD: constants.METHOD_METADATA,
  HTTP_CODE: constants.HTTP_CODE_METADATA,
  HEADERS: constants.HEADERS_METADATA,
  ROUTE_ARGS: constants.ROUTE_ARGS_METADATA,
  CUSTOM_ROUTE_ARGS: constants.CUSTOM_ROUTE_ARGS_METADATA,
  RESPONSE_PASSTHROUGH: constants.RESPONSE_PASSTHROUGH_METADATA,
  GUARDS: constants.GUARDS_METADATA,
  INTERCEPTORS: constants.INTERCEPTORS_METADATA,
  PIPES: constants.PIPES_METADATA,
  EXCEPTION_FILTERS: constants.EXCEPTION_FILTERS_METADATA,
  SSE: constants.SSE_METADATA,
  REDIRECT: constants.REDIRECT_METADATA,
  RENDER: constants.RENDER_METADATA,
  FASTIFY_ROUTE_CONFIG: FASTIFY_ROUTE_CONFIG_METADATA,
} as const;

export type NestRouteKeys = { readonly [K in keyof typeof NEST_ROUTE_KEYS]: string };

class ProbeGuard {
  canActivate() {
    return true;
  }
}
class ProbeInterceptor {
  intercept(_c: unknown, next: { handle(): unknown }) {
    return next.handle();
  }
}
class ProbePipe {
  transform(v: unknown) {
    return v;
  }
}
@Catch()
class ProbeFilter {
  catch() {}
}
const ProbeParam = createParamDecorator(() => undefined);

/** A controller using every decorator whose metadata the platform reads, each with a value to find again. */
@Controller('probe-controller')
class ProbeController {
  @Post('probe-route')
  @HttpCode(204)
  @Header('x-probe', 'probe')
  @UseGuards(ProbeGuard)
  @UseInterceptors(ProbeInterceptor)
  @UsePipes(ProbePipe)
  @UseFilters(ProbeFilter)
  @RouteConfig({ probe: true })
  route(
    @Body('field') _body: unknown,
    @Query() _query: unknown,
    @Res({ passthrough: true }) _reply: unknown,
    @ProbeParam() _custom: unknown,
    @Param('id') _id: string,
    @Headers('x-h') _header: string,
    @Req() _req: unknown,
  ) {}

  @Sse('probe-sse')
  sse() {}

  @Redirect('/probe-target')
  redirect() {}

  @Render('probe-view')
  render() {}
}

const checked = new WeakSet<object>();

/**
 * Checks, once per key table, that each key reads back what Nest's public decorators wrote on a probe controller;
 * throws a LibraryAssumptionError naming @nestjs/common (or @nestjs/platform-fastify) and the key otherwise.
 */
export function checkNestRouteMetadata(keys: NestRouteKeys = NEST_ROUTE_KEYS): void {
  if (checked.has(keys)) return;
  const proto = ProbeController.prototype as unknown as Record<string, object>;
  const route = proto.route;
  const get = (key: string, target: object, property?: string) =>
    property === undefined ? Reflect.getMetadata(key, target) : Reflect.getMetadata(key, target, property);
  const common = (holds: unknown, what: string) =>
    assumeOf('@nestjs/common', holds, `the route metadata key ${what}`);
  const has = (list: unknown, item: unknown) => Array.isArray(list) && list.includes(item);

  common(get(keys.PATH, route) === 'probe-route', `PATH_METADATA ("${keys.PATH}") holds @Post()'s path`);
  common(
    get(keys.PATH, ProbeController) === 'probe-controller',
    `PATH_METADATA ("${keys.PATH}") holds @Controller()'s path`,
  );
  common(
    get(keys.METHOD, route) === RequestMethod.POST,
    `METHOD_METADATA ("${keys.METHOD}") holds the method`,
  );
  common(get(keys.HTTP_CODE, route) === 204, `HTTP_CODE_METADATA ("${keys.HTTP_CODE}") holds @HttpCode()`);
  common(
    isDeepStrictEqual(get(keys.HEADERS, route), [{ name: 'x-probe', value: 'probe' }]),
    `HEADERS_METADATA ("${keys.HEADERS}") holds @Header() as [{ name, value }]`,
  );
  common(has(get(keys.GUARDS, route), ProbeGuard), `GUARDS_METADATA ("${keys.GUARDS}") lists @UseGuards()`);
  common(
    has(get(keys.INTERCEPTORS, route), ProbeInterceptor),
    `INTERCEPTORS_METADATA ("${keys.INTERCEPTORS}") lists @UseInterceptors()`,
  );
  common(has(get(keys.PIPES, route), ProbePipe), `PIPES_METADATA ("${keys.PIPES}") lists @UsePipes()`);
  common(
    has(get(keys.EXCEPTION_FILTERS, route), ProbeFilter),
    `EXCEPTION_FILTERS_METADATA ("${keys.EXCEPTION_FILTERS}") lists @UseFilters()`,
  );
  common(get(keys.SSE, proto.sse) === true, `SSE_METADATA ("${keys.SSE}") marks @Sse()`);
  common(
    (get(keys.REDIRECT, proto.redirect) as { url?: unknown } | undefined)?.url === '/probe-target',
    `REDIRECT_METADATA ("${keys.REDIRECT}") holds @Redirect()'s url`,
  );
  common(
    get(keys.RENDER, proto.render) === 'probe-view',
    `RENDER_METADATA ("${keys.RENDER}") holds @Render()`,
  );
  common(
    get(keys.RESPONSE_PASSTHROUGH, ProbeController, 'route') === true,
    `RESPONSE_PASSTHROUGH_METADATA ("${keys.RESPONSE_PASSTHROUGH}") marks @Res({ passthrough: true }) on the class`,
  );

  const args = (get(keys.ROUTE_ARGS, ProbeController, 'route') ?? {}) as Record<
    string,
    { index?: number; data?: unknown }
  >;
  const arg = (type: RouteParamtypes, index: number) => args[`${type}:${index}`];
  common(
    arg(RouteParamtypes.BODY, 0)?.index === 0 && arg(RouteParamtypes.BODY, 0)?.data === 'field',
    `ROUTE_ARGS_METADATA ("${keys.ROUTE_ARGS}") holds @Body('field') as "${RouteParamtypes.BODY}:0" with its data`,
  );
  common(
    arg(RouteParamtypes.QUERY, 1) &&
      arg(RouteParamtypes.RESPONSE, 2) &&
      arg(RouteParamtypes.PARAM, 4)?.data === 'id' &&
      arg(RouteParamtypes.HEADERS, 5)?.data === 'x-h' &&
      arg(RouteParamtypes.REQUEST, 6),
    `ROUTE_ARGS_METADATA ("${keys.ROUTE_ARGS}") holds @Query, @Res, @Param, @Headers and @Req under RouteParamtypes`,
  );
  common(
    Object.entries(args).some(([k, v]) => k.includes(keys.CUSTOM_ROUTE_ARGS) && v.index === 3),
    `CUSTOM_ROUTE_ARGS_METADATA ("${keys.CUSTOM_ROUTE_ARGS}") marks a createParamDecorator() argument`,
  );
  assumeOf(
    '@nestjs/platform-fastify',
    isDeepStrictEqual(get(keys.FASTIFY_ROUTE_CONFIG, route), { probe: true }),
    `the route metadata key FASTIFY_ROUTE_CONFIG_METADATA ("${keys.FASTIFY_ROUTE_CONFIG}") holds @RouteConfig()`,
  );
  checked.add(keys);
}
