import { Module } from '@nestjs/common';
import { definePart } from '../../platform/part.js';
import { pspContract } from './contract.js';
import { CreateProcessedPayments1764100000200 } from './migrations/1764100000200-create-processed-payments.js';
import { ProcessedPaymentEntity } from './processed-payment.entity.js';
import { PspController } from './psp.controller.js';
import { PspService } from './psp.service.js';
import { pspSettings } from './psp.settings.js';

@Module({ controllers: [PspController], providers: [PspService] })
export class PspModule {}

export const pspPart = definePart({
  name: 'psp',
  module: PspModule,
  settings: pspSettings,
  entities: [ProcessedPaymentEntity],
  migrations: [CreateProcessedPayments1764100000200],
  serves: [pspContract],
});
