// Currency conversion in decimal arithmetic, and the stream of every conversion this exchange performs.
import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { Decimal } from 'decimal.js';
import { Subject, type Observable } from 'rxjs';
import { BootContext } from '../../platform/boot-context.js';
import { AppError } from '../../platform/errors/app-error.js';
import type { Conversion, ConvertRequest, RateTable } from './contract.js';
import { exchangeSettings } from './exchange.settings.js';

const D = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_EVEN });

/** A currency of the table: its code, its rate against the base, and its cross rates worked out so far. */
interface Currency {
  code: string;
  rate: Decimal;
  /** Rate from this currency to another code, to six places: fixed for the table's life, so computed once. */
  crossTo: Map<string, number>;
}

export class RateBook {
  private readonly currencies = new Map<string, Currency>();

  constructor(readonly table: RateTable) {
    for (const [code, rate] of Object.entries(table))
      this.currencies.set(code, { code, rate: new D(String(rate)), crossTo: new Map() });
  }

  private currency(code: string): Currency {
    const currency = this.currencies.get(code.trim().toUpperCase());
    if (!currency)
      throw new AppError(400, 'unsupported_currency', `Invalid or unsupported currency code: ${code.trim()}`);
    return currency;
  }

  convert(req: ConvertRequest): Conversion {
    const from = this.currency(req.from);
    const to = this.currency(req.to);
    const amount = new D(String(req.amount).trim());
    const result = amount.times(to.rate).div(from.rate).toDecimalPlaces(2, D.ROUND_HALF_EVEN);
    let rate = from.crossTo.get(to.code);
    if (rate === undefined) {
      rate = to.rate.div(from.rate).toDecimalPlaces(6, D.ROUND_HALF_EVEN).toNumber();
      from.crossTo.set(to.code, rate);
    }
    return { from: from.code, to: to.code, amount: amount.toNumber(), result: result.toNumber(), rate };
  }
}

@Injectable()
export class ExchangeService implements BeforeApplicationShutdown {
  private readonly book: RateBook;
  private readonly conversions = new Subject<Conversion>();

  constructor(boot: BootContext) {
    this.book = new RateBook(boot.settings(exchangeSettings).rates);
  }

  convert(req: ConvertRequest): Conversion {
    const conversion = this.book.convert(req);
    // Nothing to hand over while no /exchange/stream is open (next() still walks rxjs's error context then).
    if (this.conversions.observed) this.conversions.next(conversion);
    return conversion;
  }

  rates(): RateTable {
    return { ...this.book.table };
  }

  stream(): Observable<Conversion> {
    return this.conversions.asObservable();
  }

  /** Ends every open /exchange/stream response before Nest closes the HTTP listener, which waits for them. */
  beforeApplicationShutdown(): void {
    this.conversions.complete();
  }
}
