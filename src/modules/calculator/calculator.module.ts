import { Module } from '@nestjs/common';
import { definePart } from '../../platform/part.js';
import { CalculatorController } from './calculator.controller.js';
import { CalculatorService } from './calculator.service.js';
import { calculatorSettings } from './calculator.settings.js';
import { calculatorContract } from './contract.js';
import { CalculatorEventEntity } from './event-store/calculator-event.entity.js';
import { CalculatorEventLog } from './event-store/calculator-event-log.service.js';
import { CreateCalculatorEvents1763800000000 } from './event-store/migrations/1763800000000-create-calculator-events.js';
import { AddCalculatorEventId1763900000000 } from './event-store/migrations/1763900000000-add-calculator-event-id.js';

@Module({ controllers: [CalculatorController], providers: [CalculatorEventLog, CalculatorService] })
export class CalculatorModule {}

export const calculatorPart = definePart({
  name: 'calculator',
  module: CalculatorModule,
  settings: calculatorSettings,
  entities: [CalculatorEventEntity],
  migrations: [CreateCalculatorEvents1763800000000, AddCalculatorEventId1763900000000],
  serves: [calculatorContract],
});
