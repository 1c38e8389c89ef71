import { LibraryAssumptionError } from './library-assumption.js';
import { checkNestRouteMetadata, NEST_ROUTE_KEYS } from './nest-route-metadata.js';

describe(checkNestRouteMetadata.name, () => {
  it("passes with the installed Nest's keys", () => {
    expect(() => checkNestRouteMetadata()).not.toThrow();
  });

  it('fails loudly, naming @nestjs/common and the key, when a key no longer reads what its decorator wrote', () => {
    const moved = { ...NEST_ROUTE_KEYS, PATH: '__path_moved__' };
    expect(() => checkNestRouteMetadata(moved)).toThrow(LibraryAssumptionError);
    expect(() => checkNestRouteMetadata(moved)).toThrow(
      /^@nestjs\/common@\S+ .*PATH_METADATA \("__path_moved__"\)/,
    );
  });

  it.each(Object.keys(NEST_ROUTE_KEYS) as Array<keyof typeof NEST_ROUTE_KEYS>)('checks %s', (key) => {
    expect(() => checkNestRouteMetadata({ ...NEST_ROUTE_KEYS, [key]: '__moved__' })).toThrow(
      LibraryAssumptionError,
    );
  });

  it('names @nestjs/platform-fastify for its route config key', () => {
    expect(() => checkNestRouteMetadata({ ...NEST_ROUTE_KEYS, FASTIFY_ROUTE_CONFIG: '__moved__' })).toThrow(
      /^@nestjs\/platform-fastify@\S+ .*FASTIFY_ROUTE_CONFIG_METADATA/,
    );
  });
});
