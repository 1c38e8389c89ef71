// Matches client addresses against CALCULATOR_WATCH_IPS (addresses and CIDR blocks, IPv4 or IPv6). A client that
// reaches a dual-stack listener over IPv4 shows up as IPv4-mapped IPv6 (::ffff:127.0.0.1), so both the rules and
// the addresses are reduced to plain IPv4 where they are really IPv4.
import { BlockList, isIP } from 'node:net';

type Family = 'ipv4' | 'ipv6';

/** `::ffff:a.b.c.d` (in any spelling) becomes `a.b.c.d`; other addresses are returned as given, minus a zone id. */
export function unmapIpv4(ip: string): string {
  const address = ip.replace(/%.*$/, '');
  if (isIP(address) !== 6) return address;
  const canonical = new URL(`http://[${address}]`).hostname;
  const mapped = /^\[::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/.exec(canonical);
  if (!mapped) return address;
  const hi = parseInt(mapped[1], 16);
  const lo = parseInt(mapped[2], 16);
  return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
}

interface Rule {
  text: string;
  list: BlockList;
}

function familyOf(address: string): Family | undefined {
  const v = isIP(address);
  return v === 4 ? 'ipv4' : v === 6 ? 'ipv6' : undefined;
}

function compile(text: string): Rule | string {
  const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(text);
  const family = m ? familyOf(m[1]) : undefined;
  if (!m || !family) return `"${text}" is not an IP address or CIDR block`;
  let address = m[1];
  let prefix = m[2] === undefined ? undefined : Number(m[2]);
  let fam: Family = family;
  if (prefix !== undefined && prefix > (fam === 'ipv4' ? 32 : 128))
    return `"${text}" has an invalid prefix length`;
  const unmapped = unmapIpv4(address);
  if (fam === 'ipv6' && unmapped !== address && (prefix === undefined || prefix >= 96)) {
    address = unmapped;
    fam = 'ipv4';
    prefix = prefix === undefined ? undefined : prefix - 96;
  }
  const list = new BlockList();
  if (prefix === undefined) list.addAddress(address, fam);
  else list.addSubnet(address, prefix, fam);
  return { text, list };
}

export class WatchedIpMatcher {
  private readonly compiled: Rule[];

  /** Throws one Error naming every entry that is not an address or CIDR block. */
  constructor(readonly rules: readonly string[]) {
    const results = rules.map((r) => compile(r.trim()));
    const problems = results.filter((r): r is string => typeof r === 'string');
    if (problems.length > 0) throw new Error(problems.join('; '));
    this.compiled = results as Rule[];
  }

  /** The first rule the address falls under, or undefined. Anything that is not an IP address matches nothing. */
  match(ip: string): string | undefined {
    const address = unmapIpv4(ip);
    const family = familyOf(address);
    if (!family) return undefined;
    return this.compiled.find((r) => r.list.check(address, family))?.text;
  }

  matches(ip: string): boolean {
    return this.match(ip) !== undefined;
  }
}
