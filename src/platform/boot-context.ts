// What the role bootstrap decided before Nest started: roles, booted parts, resolved settings, peers, database.
// Built once from the validated environment and provided to every module.
import type { HostPort } from './config/parsers.js';
import type { SettingsOf, SettingsSchema } from './config/settings.js';
import type { PlatformSettings } from './platform.settings.js';
import type { ModulePart } from './part.js';
import type { PartName } from './transport/contract.js';

/** A role's name as the role table spells it (the table lives in roles/, above the platform). */
export type RoleName = string;

export interface PeerTarget {
  part: PartName;
  role: RoleName;
  /** The setting it came from, e.g. EXCHANGE_ADDR. */
  setting: string;
  addresses: HostPort[];
}

export class BootContext {
  constructor(
    readonly roles: RoleName[],
    readonly parts: ModulePart[],
    readonly platform: PlatformSettings,
    private readonly values: Map<SettingsSchema, unknown>,
    readonly peers: Map<PartName, PeerTarget>,
    readonly databaseUrl: string | undefined,
    readonly version: string,
  ) {}

  get roleLabel(): string {
    return this.roles.join(',');
  }

  isLocal(part: string): boolean {
    return this.parts.some((p) => p.name === part);
  }

  /** The resolved settings of a schema declared by a booted part. */
  settings<S extends SettingsSchema>(schema: S): SettingsOf<S> {
    const v = this.values.get(schema);
    if (!v) throw new Error('settings requested for a schema that no booted part declared');
    return v as SettingsOf<S>;
  }
}
