// Part name -> the module part that implements it. The role table (role-table.ts) says which parts a role boots.
import type { ModulePart } from '../platform/part.js';
import { authPart } from '../modules/auth/auth.module.js';
import { exchangePart } from '../modules/exchange/exchange.module.js';
import { generatorPart } from '../modules/generator/generator.module.js';
import { pspPart } from '../modules/psp/psp.module.js';
import { transactionPart } from '../modules/transaction/transaction.module.js';
import type { PartName } from './role-table.js';

export const PARTS: Partial<Record<PartName, ModulePart>> = {
  exchange: exchangePart,
  generator: generatorPart,
  auth: authPart,
  transaction: transactionPart,
  psp: pspPart,
};
