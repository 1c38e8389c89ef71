// Part name -> the module part that implements it. The role table (role-table.ts) says which parts a role boots.
import type { ModulePart } from '../platform/part.js';
import { echoClientPart } from '../modules/echo/echo-client.module.js';
import { echoServerPart } from '../modules/echo/echo-server.module.js';
import { exchangePart } from '../modules/exchange/exchange.module.js';
import { generatorPart } from '../modules/generator/generator.module.js';
import type { PartName } from './role-table.js';

export const PARTS: Partial<Record<PartName, ModulePart>> = {
  exchange: exchangePart,
  generator: generatorPart,
  'echo-server': echoServerPart,
  'echo-client': echoClientPart,
};
