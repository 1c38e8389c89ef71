// The role table as plain data: which module parts each role boots, which listeners it opens and which roles it
// calls. Deployment files, the test harness and the bootstrap all read this one table.

export type Listener = 'http' | 'tcp' | 'grpc' | 'echo';

export interface RoleSpec {
  /** Module parts booted by the role (see parts.ts). */
  readonly parts: readonly PartName[];
  /** Listeners the role opens, besides the HTTP one every role has. */
  readonly listeners: readonly Listener[];
  /** Roles this role calls (over Nest TCP, except echo-client which speaks raw TCP, and master which spawns). */
  readonly calls: readonly string[];
  /** A job runs its work and exits 0; it is never part of `all`. */
  readonly job?: boolean;
  /** The role owns tables and needs PostgreSQL. */
  readonly database?: boolean;
}

export const PART_NAMES = [
  'exchange',
  'generator',
  'echo-server',
  'echo-client',
  'calculator',
  'auth',
  'transaction',
  'psp',
  'master',
  'child',
] as const;
export type PartName = (typeof PART_NAMES)[number];

export const ROLE_TABLE = {
  exchange: { parts: ['exchange'], listeners: ['http', 'tcp'], calls: [] },
  generator: { parts: ['generator'], listeners: ['http'], calls: ['exchange'] },
  'echo-server': { parts: ['echo-server'], listeners: ['http', 'echo'], calls: [] },
  'echo-client': { parts: ['echo-client'], listeners: ['http'], calls: ['echo-server'], job: true },
  calculator: { parts: ['calculator'], listeners: ['http', 'grpc', 'tcp'], calls: [], database: true },
  auth: { parts: ['auth'], listeners: ['http', 'tcp'], calls: [], database: true },
  transaction: { parts: ['transaction'], listeners: ['http'], calls: ['auth', 'psp'], database: true },
  psp: { parts: ['psp'], listeners: ['http', 'tcp'], calls: [], database: true },
  master: { parts: ['master'], listeners: ['http', 'tcp'], calls: ['child'], database: true },
  child: { parts: ['child'], listeners: ['http'], calls: ['master'], job: true },
} as const satisfies Record<string, RoleSpec>;

export type RoleName = keyof typeof ROLE_TABLE;
export const ROLE_NAMES = Object.keys(ROLE_TABLE) as RoleName[];
export const ALL = 'all';

/** Roles that `all` boots in one process: every role except the jobs. */
export const ALL_ROLES: RoleName[] = ROLE_NAMES.filter((r) => !(ROLE_TABLE[r] as RoleSpec).job);

export function roleSpec(role: RoleName): RoleSpec {
  return ROLE_TABLE[role];
}

/** A part name as a contract spells it, checked against the table (the platform keeps part names opaque). */
export function partName(name: string): PartName {
  if (!(PART_NAMES as readonly string[]).includes(name)) throw new Error(`no part is named ${name}`);
  return name as PartName;
}

/** The role that hosts a part when every role runs on its own (the peer a remote caller dials). */
export function hostRoleOf(part: PartName): RoleName {
  const role = ROLE_NAMES.find((r) => (ROLE_TABLE[r].parts as readonly PartName[]).includes(part));
  if (!role) throw new Error(`no role hosts part ${part}`);
  return role;
}

/** The roles whose table entry says they call the role hosting `part`: its only remote callers under mutual TLS. */
export function callersOf(part: PartName): RoleName[] {
  const host = hostRoleOf(part);
  return ROLE_NAMES.filter((r) => (ROLE_TABLE[r].calls as readonly string[]).includes(host));
}

export class RoleSelectionError extends Error {}

/** Parses `ROLE`: one name, a comma list, or `all`. Unknown names fail with the list of valid ones. */
export function parseRoles(raw: string | undefined): RoleName[] {
  const text = (raw ?? '').trim() || ALL;
  const names = text
    .split(',')
    .map((n) => n.trim().toLowerCase())
    .filter(Boolean);
  const unknown = names.filter((n) => n !== ALL && !(ROLE_NAMES as string[]).includes(n));
  if (unknown.length > 0 || names.length === 0) {
    throw new RoleSelectionError(
      `Unknown ROLE ${unknown.map((u) => `"${u}"`).join(', ') || '(empty)'}; valid roles: ${[ALL, ...ROLE_NAMES].join(', ')}`,
    );
  }
  const roles = new Set<RoleName>();
  for (const n of names) {
    if (n === ALL) ALL_ROLES.forEach((r) => roles.add(r));
    else roles.add(n as RoleName);
  }
  return [...roles];
}

/** Parts booted by a set of roles, in role-table order. */
export function partsOf(roles: readonly RoleName[]): PartName[] {
  const set = new Set<PartName>(roles.flatMap((r) => ROLE_TABLE[r].parts as readonly PartName[]));
  return PART_NAMES.filter((p) => set.has(p));
}
