// A list check that fails on an empty list and names each item that breaks the rule; a bare
// `expect(list.every(rule)).toBe(true)` passes on nothing and fails saying only "expected true".
import { inspect } from 'node:util';

/** Every item (of a list, or every value of a record, named by its key) satisfies `rule`; there is at least one. */
export function expectEach<T>(
  items: Iterable<T> | Record<string, T>,
  rule: (item: T) => boolean,
  what: string,
): void {
  const entries: [string, T][] =
    Symbol.iterator in items
      ? [...(items as Iterable<T>)].map((item, i) => [`#${i}`, item])
      : Object.entries(items as Record<string, T>);
  if (entries.length === 0) throw new Error(`expected ${what}, but there is none to check`);
  const offenders = entries.filter(([, item]) => !rule(item));
  if (offenders.length > 0)
    throw new Error(
      `expected ${what}; ${offenders.length} of ${entries.length} do not: ${offenders
        .map(([name, item]) => `${name} ${inspect(item, { depth: 2, breakLength: Infinity })}`)
        .join('; ')}`,
    );
}
