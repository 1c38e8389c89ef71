// @grpc/reflection's symbol index, which it keeps private. Version 1.0.x names the symbols of a package-less proto
// with a leading dot (`.MathHelper`), so a reflection client (grpcurl, Postman) lists a service that does not exist
// and cannot look the real one up; the fix re-keys them in the index of each protocol version it serves.
import type { ReflectionService } from '@grpc/reflection';
import { assumeOf } from './library-assumption.js';

type SymbolIndex = Record<string, unknown>;
type Implementation = { services?: unknown; symbols?: unknown };

const isIndex = (v: unknown): v is SymbolIndex => typeof v === 'object' && v !== null;

/**
 * Re-keys the dotted names of a package-less proto under their real names. Throws a LibraryAssumptionError naming
 * @grpc/reflection when the service no longer keeps a `services` and a `symbols` index per protocol (v1, v1Alpha).
 */
export function undotPackagelessSymbols(reflection: ReflectionService): ReflectionService {
  const impls = reflection as unknown as Record<'v1' | 'v1Alpha', Implementation | undefined>;
  for (const version of ['v1', 'v1Alpha'] as const) {
    const impl = impls[version];
    assumeOf(
      '@grpc/reflection',
      impl && isIndex(impl.services) && isIndex(impl.symbols),
      `a ReflectionService keeps its ${version} implementation's "services" and "symbols" indexes as objects`,
    );
    const services = impl.services as SymbolIndex;
    const symbols = impl.symbols as SymbolIndex;
    for (const [name, value] of Object.entries(services)) {
      if (!name.startsWith('.')) continue;
      delete services[name];
      services[name.slice(1)] = value;
    }
    for (const [name, value] of Object.entries(symbols)) {
      if (name.startsWith('.')) symbols[name.slice(1)] ??= value;
    }
  }
  return reflection;
}
