// Part name -> a loader for the module part that implements it. The role table (role-table.ts) says which parts a
// role boots; parts load lazily, so a process only pays for the modules it runs. The record is complete by type:
// a part in the role table without an implementation does not compile.
import type { ModulePart } from '../platform/part.js';
import type { PartName } from './role-table.js';

export const PARTS: Record<PartName, () => Promise<ModulePart>> = {
  exchange: async () => (await import('../modules/exchange/exchange.module.js')).exchangePart,
  generator: async () => (await import('../modules/generator/generator.module.js')).generatorPart,
  'echo-server': async () => (await import('../modules/echo/echo-server.module.js')).echoServerPart,
  'echo-client': async () => (await import('../modules/echo/echo-client.module.js')).echoClientPart,
  calculator: async () => (await import('../modules/calculator/calculator.module.js')).calculatorPart,
  auth: async () => (await import('../modules/auth/auth.module.js')).authPart,
  transaction: async () => (await import('../modules/transaction/transaction.module.js')).transactionPart,
  psp: async () => (await import('../modules/psp/psp.module.js')).pspPart,
  master: async () => (await import('../modules/master-child/master.module.js')).masterPart,
  child: async () => (await import('../modules/master-child/child/child.module.js')).childPart,
};
