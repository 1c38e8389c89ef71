// The acceptance vectors, shared by the unit, gRPC and HTTP suites so every door is held to the same table.
import { CalculatorErrorCode } from '../../src/modules/calculator/calculator.math.js';

export interface SummationVector {
  name: string;
  first: string;
  last: string;
  result?: string;
  error?: CalculatorErrorCode;
}

export interface FactorialVector {
  name: string;
  base: string;
  result?: string;
  error?: CalculatorErrorCode;
}

export const summationVectors: readonly SummationVector[] = [
  { name: 'two plus two', first: '2', last: '2', result: '4' },
  { name: 'opposites cancel', first: '250', last: '-250', result: '0' },
  { name: 'int64 max plus one', first: '9223372036854775807', last: '1', error: 'OUT_OF_RANGE' },
];

export const factorialVectors: readonly FactorialVector[] = [
  { name: 'zero', base: '0', result: '1' },
  { name: 'one (the original wrongly failed it)', base: '1', result: '1' },
  { name: 'three', base: '3', result: '6' },
  { name: 'five', base: '5', result: '120' },
  { name: 'twenty, the largest that fits', base: '20', result: '2432902008176640000' },
  { name: 'twenty-one overflows', base: '21', error: 'OUT_OF_RANGE' },
  { name: 'negative base', base: '-5', error: 'INVALID_ARGUMENT' },
];
