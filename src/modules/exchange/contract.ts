// The exchange module's front door for other modules: pattern names, payload types and the typed client.
import { defineContract, rpcClient, rpcPattern } from '../../platform/transport/contract.js';

export interface ConvertRequest {
  amount: number | string;
  from: string;
  to: string;
}

export interface Conversion {
  from: string;
  to: string;
  amount: number;
  result: number;
  rate: number;
}

/** Units of each currency per 1 EUR. */
export type RateTable = Record<string, number>;

export const exchangeContract = defineContract({
  part: 'exchange',
  patterns: {
    convert: rpcPattern<ConvertRequest, Conversion>('exchange.convert', { idempotent: true }),
    rates: rpcPattern<Record<string, never>, RateTable>('exchange.rates', { idempotent: true }),
  },
});

export const ExchangeClient = rpcClient(exchangeContract, 'ExchangeClient');
export type ExchangeClient = InstanceType<typeof ExchangeClient>;
