// Draws a random conversion request and has the exchange answer it, on demand and optionally on a timer.
import { Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { BootContext } from '../../platform/boot-context.js';
import { Clock, Random } from '../../platform/clock.js';
import { createLogger } from '../../platform/logging/logger.js';
import { newRequestId, requestContext } from '../../platform/logging/request-context.js';
import { ExchangeClient, type Conversion, type ConvertRequest } from '../exchange/contract.js';
import { generatorSettings } from './generator.settings.js';

export interface RandomConversion extends Conversion {
  timestamp: string;
}

const MIN_AMOUNT_CENTS = 1_000;
const MAX_AMOUNT_CENTS = 1_000_000;

@Injectable()
export class GeneratorService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = createLogger('generator');
  private codes?: string[];
  private ticker?: NodeJS.Timeout;
  private readonly tickMs: number;

  constructor(
    private readonly exchange: ExchangeClient,
    private readonly random: Random,
    private readonly clock: Clock,
    boot: BootContext,
  ) {
    this.tickMs = boot.settings(generatorSettings).tickMs;
  }

  /** amount uniform in [10, 10000) with 2 decimals; from and to drawn from the exchange's rate table. */
  async draw(): Promise<ConvertRequest> {
    this.codes ??= Object.keys(await this.exchange.rates({})).sort();
    const codes = this.codes;
    const cents = this.random.int(MIN_AMOUNT_CENTS, MAX_AMOUNT_CENTS);
    return {
      amount: cents / 100,
      from: codes[this.random.int(0, codes.length)],
      to: codes[this.random.int(0, codes.length)],
    };
  }

  async randomConversion(): Promise<RandomConversion> {
    const conversion = await this.exchange.convert(await this.draw());
    return { ...conversion, timestamp: this.clock.now().toISOString() };
  }

  onApplicationBootstrap(): void {
    if (this.tickMs <= 0) return;
    this.ticker = setInterval(() => {
      void requestContext.run({ requestId: newRequestId() }, async () => {
        try {
          const c = await this.randomConversion();
          this.log.info({ conversion: c }, 'pushed a conversion');
        } catch (err) {
          this.log.warn({ err: (err as Error).message }, 'tick failed');
        }
      });
    }, this.tickMs);
  }

  beforeApplicationShutdown(): void {
    if (this.ticker) {
      clearInterval(this.ticker);
      this.log.info('stopped generator ticker');
    }
  }
}
