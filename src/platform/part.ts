// What a module declares about itself so the role bootstrap can boot it: its Nest module, its settings,
// its tables and the contracts it serves and calls. The role table says which parts a process boots.
import type { DynamicModule, Type } from '@nestjs/common';
import type { MixedList } from 'typeorm';
import type { SettingsSchema } from './config/settings.js';
import type { ContractDef } from './transport/contract.js';

export interface ModulePart {
  /** The part name, as listed in the role table. */
  name: string;
  module: Type<unknown> | DynamicModule;
  /** Settings this part reads; validated at boot together with every other booted part's. */
  settings?: SettingsSchema;
  /** TypeORM entities and migrations this part owns; the role runs the migrations at boot. */
  entities?: MixedList<Function>;
  migrations?: MixedList<Function>;
  /** Contracts whose patterns this part handles (served in-process and on the role's TCP listener). */
  serves?: readonly ContractDef[];
  /** Contracts this part calls; readiness checks that their hosts answer. */
  calls?: readonly ContractDef[];
  /** A job part runs to completion and then ends the process. */
  job?: boolean;
}

export function definePart(part: ModulePart): ModulePart {
  return part;
}

/**
 * A job part provides this token: the bootstrap runs it once the role is up, then shuts down with its exit code.
 * SIGTERM calls stop() and the process exits 0.
 */
export const JOB = Symbol('polyrole:job');

export interface Job {
  run(): Promise<number>;
  stop(): Promise<void>;
}
