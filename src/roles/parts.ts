// Part name -> a loader for the module part that implements it. The role table (role-table.ts) says which parts a
// role boots; parts load lazily, so a process only pays for the modules it runs.
import type { ModulePart } from '../platform/part.js';
import type { PartName } from './role-table.js';

export const PARTS: Partial<Record<PartName, () => Promise<ModulePart>>> = {
  exchange: async () => (await import('../modules/exchange/exchange.module.js')).exchangePart,
  generator: async () => (await import('../modules/generator/generator.module.js')).generatorPart,
  master: async () => (await import('../modules/master-child/master.module.js')).masterPart,
  child: async () => (await import('../modules/master-child/child/child.module.js')).childPart,
};
