// Currency conversion in decimal arithmetic, and the stream of every conversion this exchange performs.
import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { Decimal } from 'decimal.js';
import { Subject, type Observable } from 'rxjs';
import { BootContext } from '../../platform/boot-context.js';
import { AppError } from '../../platform/errors/app-error.js';
import type { Conversion, ConvertRequest, RateTable } from './contract.js';
import { exchangeSettings } from './exchange.settings.js';

const D = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_EVEN });

export class RateBook {
  private readonly rates = new Map<string, Decimal>();

  constructor(readonly table: RateTable) {
    for (const [code, rate] of Object.entries(table)) this.rates.set(code, new D(String(rate)));
  }

  private rateOf(code: string): [string, Decimal] {
    const c = code.trim().toUpperCase();
    const rate = this.rates.get(c);
    if (!rate)
      throw new AppError(400, 'unsupported_currency', `Invalid or unsupported currency code: ${code.trim()}`);
    return [c, rate];
  }

  convert(req: ConvertRequest): Conversion {
    const [from, rateFrom] = this.rateOf(req.from);
    const [to, rateTo] = this.rateOf(req.to);
    const amount = new D(String(req.amount).trim());
    const result = amount.times(rateTo).div(rateFrom).toDecimalPlaces(2, D.ROUND_HALF_EVEN);
    const rate = rateTo.div(rateFrom).toDecimalPlaces(6, D.ROUND_HALF_EVEN);
    return { from, to, amount: amount.toNumber(), result: result.toNumber(), rate: rate.toNumber() };
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
