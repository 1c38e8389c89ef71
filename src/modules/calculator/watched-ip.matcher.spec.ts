import { WatchedIpMatcher, unmapIpv4 } from './watched-ip.matcher.js';

const rules = {
  loopback: '127.0.0.1',
  privateTen: '10.0.0.0/8',
  docV6: '2001:db8::/32',
  mappedHost: '::ffff:192.168.1.7',
  mappedBlock: '::ffff:172.16.0.0/108',
};

describe(WatchedIpMatcher.name, () => {
  const matcher = new WatchedIpMatcher(Object.values(rules));

  it.each([
    ['a listed IPv4 address', '127.0.0.1', rules.loopback],
    ['an address inside an IPv4 block', '10.20.30.40', rules.privateTen],
    ['the same address IPv4-mapped', '::ffff:127.0.0.1', rules.loopback],
    ['a mapped address inside an IPv4 block', '::ffff:10.1.2.3', rules.privateTen],
    ['a mapped address in hex spelling', '::ffff:7f00:1', rules.loopback],
    ['an address inside an IPv6 block', '2001:db8:1::42', rules.docV6],
    ['plain IPv4 against a mapped rule', '192.168.1.7', rules.mappedHost],
    ['plain IPv4 against a mapped block', '172.16.9.9', rules.mappedBlock],
  ])('matches %s', (_name, ip, rule) => {
    expect(matcher.match(ip)).toBe(rule);
  });

  it.each([
    ['an unlisted IPv4 address', '127.0.0.2'],
    ['an address just outside a block', '11.0.0.1'],
    ['an unlisted IPv6 address', '2001:db9::1'],
    ['IPv6 loopback', '::1'],
    ['something that is not an address', 'localhost'],
  ])('does not match %s', (_name, ip) => {
    expect(matcher.matches(ip)).toBe(false);
  });

  it('matches nothing when no rules are given', () => {
    expect(new WatchedIpMatcher([]).matches('127.0.0.1')).toBe(false);
  });

  it('names every bad entry at once', () => {
    expect(() => new WatchedIpMatcher(['10.0.0.0/33', 'example.com', '127.0.0.1'])).toThrow(
      '"10.0.0.0/33" has an invalid prefix length; "example.com" is not an IP address or CIDR block',
    );
  });
});

describe(unmapIpv4.name, () => {
  it.each([
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['0:0:0:0:0:FFFF:0A00:0001', '10.0.0.1'],
    ['::1', '::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['192.0.2.1', '192.0.2.1'],
  ])('reads %s as %s', (ip, plain) => {
    expect(unmapIpv4(ip)).toBe(plain);
  });
});
