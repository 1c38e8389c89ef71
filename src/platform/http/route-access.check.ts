// Security invariant, checked by code at boot: every HTTP route is marked @Public() or @Protected().
import type { INestApplication } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { checkNestRouteMetadata, NEST_ROUTE_KEYS as KEY } from '../internals/nest-route-metadata.js';
import { ACCESS } from './access.decorator.js';

export function unmarkedRoutes(app: INestApplication): string[] {
  checkNestRouteMetadata();
  const discovery = app.get(DiscoveryService);
  const scanner = app.get(MetadataScanner);
  const reflector = app.get(Reflector);
  const out: string[] = [];
  for (const wrapper of discovery.getControllers()) {
    const cls = wrapper.metatype as (new (...a: unknown[]) => unknown) | undefined;
    if (!cls) continue;
    const proto = cls.prototype;
    for (const name of scanner.getAllMethodNames(proto)) {
      const handler = proto[name];
      if (Reflect.getMetadata(KEY.METHOD, handler) === undefined) continue;
      if (Reflect.getMetadata(KEY.PATH, handler) === undefined) continue;
      const access = reflector.getAllAndOverride(ACCESS, [handler, cls]);
      if (access !== 'public' && access !== 'protected') out.push(`${cls.name}.${name}`);
    }
  }
  return out;
}
