import { jsonCopy } from './json-copy.js';

const throughJson = (value: unknown): unknown => {
  const text = JSON.stringify(value);
  return text === undefined ? undefined : JSON.parse(text);
};

class Money {
  constructor(
    readonly amount: number,
    readonly currency: string,
  ) {}
  get label(): string {
    return `${this.amount} ${this.currency}`;
  }
}

const sparse: unknown[] = [1];
sparse[3] = 4;

const cases: Array<[string, unknown]> = [
  ['an exchange request', { amount: 2500.5, from: 'CAD', to: 'USD' }],
  ['strings, booleans, null', { s: 'é "quoted" \\ \n', t: true, f: false, n: null }],
  ['numbers JSON cannot write', { nan: NaN, inf: Infinity, ninf: -Infinity, negZero: -0, list: [NaN, -0] }],
  [
    'undefined, functions and symbols',
    { u: undefined, f: () => 1, s: Symbol('x'), list: [undefined, () => 1, Symbol('y')] },
  ],
  [
    'a Date and other toJSON',
    { at: new Date('2025-01-02T03:04:05.678Z'), custom: { toJSON: (key: string) => `key:${key}` } },
  ],
  ['toJSON answering undefined', { gone: { toJSON: () => undefined }, list: [{ toJSON: () => undefined }] }],
  ['boxed primitives', { n: Object(5), s: Object('five'), b: Object(false) }],
  ['a class instance (prototype and getters dropped)', { money: new Money(5, 'EUR') }],
  [
    'maps, sets, buffers, typed arrays',
    { m: new Map([[1, 2]]), s: new Set([1]), b: Buffer.from('hi'), t: new Uint8Array([1, 2]) },
  ],
  ['a sparse array', { sparse }],
  ['integer-like keys in their JSON order', { b: 1, 2: 'two', a: 2, 1: 'one' }],
  ['nested arrays and objects', [[1, [2, { x: [3] }]], { y: { z: {} } }, []]],
  ['top-level primitives', 'text'],
  ['top-level undefined', undefined],
];

describe(jsonCopy.name, () => {
  it.each(cases)('gives what a JSON round trip gives: %s', (_name, value) => {
    expect(jsonCopy(value)).toStrictEqual(throughJson(value));
  });

  it('makes a new object at every level, sharing nothing with the original', () => {
    const original = { outer: { inner: [1, { deep: true }] } };
    const copied = jsonCopy(original);
    copied.outer.inner.push(2);
    (copied.outer.inner[1] as { deep: boolean }).deep = false;
    expect(original).toEqual({ outer: { inner: [1, { deep: true }] } });
  });

  it('keeps a "__proto__" key as an own property, as JSON.parse does, without touching the prototype', () => {
    const value = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    const copied = jsonCopy(value);
    expect(Object.getPrototypeOf(copied)).toBe(Object.prototype);
    expect(Object.keys(copied)).toEqual(['__proto__', 'a']);
    expect(copied).toStrictEqual(throughJson(value));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('throws where JSON.stringify throws: BigInt and circular values', () => {
    expect(() => jsonCopy({ n: 1n })).toThrow(TypeError);
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    expect(() => jsonCopy(circular)).toThrow(TypeError);
  });
});
