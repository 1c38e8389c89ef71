import { Module } from '@nestjs/common';
import { definePart } from '../../platform/part.js';
import { exchangeContract } from './contract.js';
import { ExchangeController } from './exchange.controller.js';
import { ExchangeService } from './exchange.service.js';
import { exchangeSettings } from './exchange.settings.js';

@Module({ controllers: [ExchangeController], providers: [ExchangeService] })
export class ExchangeModule {}

export const exchangePart = definePart({
  name: 'exchange',
  module: ExchangeModule,
  settings: exchangeSettings,
  serves: [exchangeContract],
});
