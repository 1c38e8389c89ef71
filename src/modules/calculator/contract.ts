// The calculator's front door for other modules: the two patterns, their payload types and the typed client.
// 64-bit values travel as decimal strings (safe-integer numbers are accepted on the way in).
import { defineContract, rpcClient, rpcPattern } from '../../platform/transport/contract.js';

export interface SummationRequest {
  first: number | string;
  last: number | string;
  /** The end user's address, when the caller knows it; recorded with the request (else 'rpc'). */
  clientIp?: string;
}

export interface SummationResponse {
  result: string;
  first: string;
  last: string;
}

export interface FactorialRequest {
  base: number | string;
  clientIp?: string;
}

export interface FactorialResponse {
  result: string;
  base: string;
}

export const calculatorContract = defineContract({
  part: 'calculator',
  patterns: {
    // Idempotent: a retried call computes the same answer; it is recorded once per attempt that arrives.
    summation: rpcPattern<SummationRequest, SummationResponse>('calculator.summation', { idempotent: true }),
    factorial: rpcPattern<FactorialRequest, FactorialResponse>('calculator.factorial', { idempotent: true }),
  },
});

export const CalculatorClient = rpcClient(calculatorContract, 'CalculatorClient');
export type CalculatorClient = InstanceType<typeof CalculatorClient>;
