// Exchange settings: the rate table (units per EUR) from config/rates.yaml, overridable by EXCHANGE_RATES.
import { defineSettings } from '../../platform/config/settings.js';
import type { RateTable } from './contract.js';

export const DEFAULT_RATES: RateTable = { EUR: 1.0, TL: 17.89, CAD: 1.34, USD: 1.06, GBP: 0.85 };

/** Accepts a YAML mapping or `EUR=1,USD=1.06` text; codes are upper-cased, rates must be positive. */
export function parseRates(raw: unknown): RateTable {
  let entries: Array<[string, unknown]>;
  if (typeof raw === 'string') {
    entries = raw
      .split(',')
      .filter((s) => s.trim())
      .map((pair) => {
        const [code, value] = pair.split('=');
        return [code ?? '', value];
      });
  } else if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
    entries = Object.entries(raw);
  } else {
    throw new Error('must be a mapping of currency code to rate');
  }
  if (entries.length === 0) throw new Error('must list at least one currency');
  const table: RateTable = {};
  for (const [code, value] of entries) {
    const c = code.trim().toUpperCase();
    if (!/^[A-Z]{2,5}$/.test(c)) throw new Error(`"${code}" is not a currency code`);
    const n = typeof value === 'number' ? value : Number(String(value).trim());
    if (!Number.isFinite(n) || n <= 0) throw new Error(`rate of ${c} must be a positive number`);
    table[c] = n;
  }
  return table;
}

export const exchangeSettings = defineSettings({
  rates: {
    env: 'EXCHANGE_RATES',
    file: { name: 'rates.yaml', key: 'rates' },
    default: DEFAULT_RATES,
    parse: parseRates,
  },
});
