import { AppError } from '../../platform/errors/app-error.js';
import {
  INT64_MAX,
  INT64_MIN,
  computeFactorial,
  computeSummation,
  factorial,
  parseInt64,
  summation,
} from './calculator.math.js';
import { factorialVectors, summationVectors } from '../../../test/calculator/calculator.vectors.js';

function failureOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected a failure');
}

const httpStatusOf = { OUT_OF_RANGE: 422, INVALID_ARGUMENT: 400 } as const;

describe('summation', () => {
  describe.each(summationVectors)('$name: Summation($first, $last)', ({ first, last, result, error }) => {
    if (result !== undefined) {
      it(`is ${result}`, () => {
        expect(summation(BigInt(first), BigInt(last))).toBe(BigInt(result));
      });
    } else {
      it(`fails with ${error}`, () => {
        const err = failureOf(() => summation(BigInt(first), BigInt(last)));
        expect({ code: err.code, status: err.status }).toEqual({ code: error, status: httpStatusOf[error!] });
      });
    }
  });

  it('reaches both ends of int64 without overflowing', () => {
    expect(summation(INT64_MAX, 0n)).toBe(INT64_MAX);
    expect(summation(INT64_MIN, 0n)).toBe(INT64_MIN);
    expect(summation(INT64_MAX, INT64_MIN)).toBe(-1n);
  });

  it('fails below int64 min', () => {
    expect(failureOf(() => summation(INT64_MIN, -1n)).code).toBe('OUT_OF_RANGE');
  });
});

describe('factorial', () => {
  describe.each(factorialVectors)('$name: Factorial($base)', ({ base, result, error }) => {
    if (result !== undefined) {
      it(`is ${result}`, () => {
        expect(factorial(BigInt(base))).toBe(BigInt(result));
      });
    } else {
      it(`fails with ${error}`, () => {
        const err = failureOf(() => factorial(BigInt(base)));
        expect({ code: err.code, status: err.status }).toEqual({ code: error, status: httpStatusOf[error!] });
      });
    }
  });
});

describe('parseInt64', () => {
  it('accepts safe-integer numbers', () => {
    expect(parseInt64(Number.MAX_SAFE_INTEGER, 'first')).toBe(BigInt(Number.MAX_SAFE_INTEGER));
    expect(parseInt64(-250, 'first')).toBe(-250n);
  });

  it('accepts decimal strings for every int64, exactly', () => {
    expect(parseInt64('9223372036854775807', 'first')).toBe(INT64_MAX);
    expect(parseInt64('-9223372036854775808', 'first')).toBe(INT64_MIN);
    expect(parseInt64('007', 'first')).toBe(7n);
  });

  it('accepts bigints', () => {
    expect(parseInt64(42n, 'base')).toBe(42n);
  });

  it.each([
    ['a fraction', 1.5],
    ['an unsafe number', 2 ** 53],
    ['NaN', Number.NaN],
    ['a fractional string', '1.5'],
    ['an exponent string', '1e3'],
    ['a padded string', ' 1'],
    ['an empty string', ''],
    ['a plus sign', '+1'],
    ['a hex string', '0x10'],
    ['a string above int64', '9223372036854775808'],
    ['a string below int64', '-9223372036854775809'],
    ['a very long string', '1'.repeat(1000)],
    ['a bigint above int64', 2n ** 63n],
    ['null', null],
    ['undefined', undefined],
    ['a boolean', true],
    ['an object', { value: 1 }],
  ])('rejects %s as INVALID_ARGUMENT (400) naming the field', (_name, value) => {
    const err = failureOf(() => parseInt64(value, 'first'));
    expect({ code: err.code, status: err.status, field: err.errors?.[0]?.field }).toEqual({
      code: 'INVALID_ARGUMENT',
      status: 400,
      field: 'first',
    });
  });
});

describe('computeSummation', () => {
  it('answers with decimal strings, echoing normalised inputs', () => {
    expect(computeSummation({ first: '9223372036854775806', last: 1 })).toEqual({
      result: '9223372036854775807',
      first: '9223372036854775806',
      last: '1',
    });
  });

  it('reports a missing field as INVALID_ARGUMENT', () => {
    expect(failureOf(() => computeSummation({ first: 1 } as never)).errors).toEqual([
      { field: 'last', message: expect.any(String) },
    ]);
  });
});

describe('computeFactorial', () => {
  it('answers with decimal strings', () => {
    expect(computeFactorial({ base: 20 })).toEqual({ result: '2432902008176640000', base: '20' });
  });
});
