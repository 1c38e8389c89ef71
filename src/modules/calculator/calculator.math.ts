// Exact signed 64-bit arithmetic for the calculator, on BigInt so no value ever passes through a JS number.
// Failures are AppErrors whose codes are the gRPC status names, so each door can map them (HTTP 422/400, gRPC).
import { AppError } from '../../platform/errors/app-error.js';

export const INT64_MIN = -(2n ** 63n);
export const INT64_MAX = 2n ** 63n - 1n;

/** The largest n whose factorial fits in int64 (21! overflows). */
export const MAX_FACTORIAL_BASE = 20n;

export const CalculatorErrorCode = {
  OutOfRange: 'OUT_OF_RANGE',
  InvalidArgument: 'INVALID_ARGUMENT',
} as const;
export type CalculatorErrorCode = (typeof CalculatorErrorCode)[keyof typeof CalculatorErrorCode];

/** What a caller may send for an int64 field: a safe-integer number, a decimal string, or a bigint. */
export type Int64Input = number | string | bigint;

export function outOfRange(message: string): AppError {
  return new AppError(422, CalculatorErrorCode.OutOfRange, message);
}

export function invalidArgument(message: string, field?: string): AppError {
  return new AppError(
    400,
    CalculatorErrorCode.InvalidArgument,
    message,
    field ? [{ field, message }] : undefined,
  );
}

// An optional minus sign and at most 19 significant digits (int64 has 19); leading zeros are harmless.
const DECIMAL_INT64 = /^-?0*\d{1,19}$/;

/**
 * Reads an int64 field: safe-integer numbers, decimal strings for any int64, or bigints.
 * Anything else (fractions, unsafe numbers, exponents, whitespace, values outside int64) is INVALID_ARGUMENT.
 */
export function parseInt64(value: unknown, field: string): bigint {
  let n: bigint;
  if (typeof value === 'bigint') {
    n = value;
  } else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) {
      throw invalidArgument(`${field} must be a safe integer number or a decimal string`, field);
    }
    n = BigInt(value);
  } else if (typeof value === 'string' && DECIMAL_INT64.test(value)) {
    n = BigInt(value);
  } else {
    throw invalidArgument(
      `${field} must be a 64-bit integer (a safe integer number or a decimal string)`,
      field,
    );
  }
  if (n < INT64_MIN || n > INT64_MAX) throw invalidArgument(`${field} must be a 64-bit integer`, field);
  return n;
}

/** first + last, or OUT_OF_RANGE when the sum leaves int64. */
export function summation(first: bigint, last: bigint): bigint {
  const sum = first + last;
  if (sum < INT64_MIN || sum > INT64_MAX) {
    throw outOfRange(`summation of ${first} and ${last} overflows a 64-bit integer`);
  }
  return sum;
}

/** base!, with 0! = 1! = 1; negative bases are INVALID_ARGUMENT, bases above 20 OUT_OF_RANGE. */
export function factorial(base: bigint): bigint {
  if (base < 0n) throw invalidArgument(`factorial is not defined for negative base ${base}`, 'base');
  if (base > MAX_FACTORIAL_BASE) {
    throw outOfRange(
      `factorial of ${base} overflows a 64-bit integer (largest base is ${MAX_FACTORIAL_BASE})`,
    );
  }
  let result = 1n;
  for (let i = 2n; i <= base; i++) result *= i;
  return result;
}

/** The calculator's operations as every door sees them: int64 inputs in, decimal strings out. */
export interface SummationInput {
  first: Int64Input;
  last: Int64Input;
}

export interface SummationResult {
  result: string;
  first: string;
  last: string;
}

export interface FactorialInput {
  base: Int64Input;
}

export interface FactorialResult {
  result: string;
  base: string;
}

export function computeSummation(input: SummationInput): SummationResult {
  const first = parseInt64(input?.first, 'first');
  const last = parseInt64(input?.last, 'last');
  return { result: summation(first, last).toString(), first: first.toString(), last: last.toString() };
}

export function computeFactorial(input: FactorialInput): FactorialResult {
  const base = parseInt64(input?.base, 'base');
  return { result: factorial(base).toString(), base: base.toString() };
}
