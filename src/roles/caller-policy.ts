// Who may call what under RPC_TLS=mutual, derived from the role table: a pattern a part serves answers only the
// roles whose `calls` name the part's host role. The readiness ping answers any role with a valid certificate.
import type { ModulePart } from '../platform/part.js';
import { PING_PATTERN } from '../platform/transport/rpc-hub.js';
import type { CallerPolicy } from '../platform/transport/rpc-tls.js';
import { callersOf, partName, ROLE_NAMES } from './role-table.js';

export function callerPolicy(parts: readonly ModulePart[]): CallerPolicy {
  const allowed = new Map<string, ReadonlySet<string>>([[PING_PATTERN, new Set(ROLE_NAMES)]]);
  for (const part of parts)
    for (const contract of part.serves ?? []) {
      const callers = new Set<string>(callersOf(partName(contract.part)));
      for (const def of Object.values(contract.patterns)) allowed.set(def.pattern, callers);
    }
  return (pattern) => allowed.get(pattern);
}
