import { RateBook } from './exchange.service.js';
import { DEFAULT_RATES, parseRates } from './exchange.settings.js';

const rates = { seedTable: DEFAULT_RATES };

describe(RateBook.name, () => {
  const book = new RateBook(rates.seedTable);

  it.each([
    ['USD', 'GBP', 100, 80.19],
    ['EUR', 'TL', 100, 1789.0],
    ['GBP', 'EUR', 100, 117.65],
    ['CAD', 'USD', 2500.5, 1978.01],
    ['TL', 'CAD', 1, 0.07],
  ])('converts %s->%s %d to %d in decimal arithmetic', (from, to, amount, result) => {
    expect(book.convert({ from, to, amount }).result).toBe(result);
  });

  it('rounds half to even at two places', () => {
    // 0.125 EUR -> EUR is exactly half-way: half-even keeps 0.12, half-up would give 0.13.
    expect(book.convert({ from: 'EUR', to: 'EUR', amount: '0.125' }).result).toBe(0.12);
    expect(book.convert({ from: 'EUR', to: 'EUR', amount: '0.135' }).result).toBe(0.14);
  });

  it('answers codes trimmed and in upper case, with the rate to six places', () => {
    expect(book.convert({ from: ' usd ', to: 'gbp', amount: 1 })).toEqual({
      from: 'USD',
      to: 'GBP',
      amount: 1,
      result: 0.8,
      rate: 0.801887,
    });
  });

  it('gives every pair its own rate, the same on every call', () => {
    const codes = Object.keys(DEFAULT_RATES);
    const expected = (from: string, to: string) =>
      Math.round((DEFAULT_RATES[to] / DEFAULT_RATES[from]) * 1e6) / 1e6;
    for (let round = 0; round < 2; round++)
      for (const from of codes)
        for (const to of codes)
          expect([from, to, book.convert({ from, to, amount: 1 }).rate]).toEqual([
            from,
            to,
            expected(from, to),
          ]);
  });

  it('rejects an unknown code naming it', () => {
    expect(() => book.convert({ from: 'XYZ', to: 'EUR', amount: 1 })).toThrow(
      'Invalid or unsupported currency code: XYZ',
    );
  });
});

describe('parseRates', () => {
  it('reads EUR=1,USD=1.06 text', () => {
    expect(parseRates('eur=1, USD=1.06')).toEqual({ EUR: 1, USD: 1.06 });
  });
  it('rejects non-positive rates', () => {
    expect(() => parseRates({ USD: 0 })).toThrow(/positive/);
  });
});
