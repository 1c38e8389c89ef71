import { Module } from '@nestjs/common';
import { definePart } from '../../platform/part.js';
import { provideClients } from '../../platform/transport/rpc-clients.js';
import { exchangeContract, ExchangeClient } from '../exchange/contract.js';
import { GeneratorController } from './generator.controller.js';
import { GeneratorService } from './generator.service.js';
import { generatorSettings } from './generator.settings.js';

@Module({
  controllers: [GeneratorController],
  providers: [GeneratorService, ...provideClients(ExchangeClient)],
})
export class GeneratorModule {}

export const generatorPart = definePart({
  name: 'generator',
  module: GeneratorModule,
  settings: generatorSettings,
  calls: [exchangeContract],
});
