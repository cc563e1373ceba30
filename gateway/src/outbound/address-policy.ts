import { BlockList, isIP } from 'net';

/**
 * The outbound address policy (architecture.md §8), as a pure function: which IP addresses the
 * gateway may connect to for URL inputs and webhooks when the host is not allowlisted. Only
 * global unicast addresses pass. request-filtering-agent enforces its own (equivalent) rule at
 * connect time as a second layer; this one runs on literal URLs and on every DNS answer.
 */
export type AddressClass =
  'public' | 'loopback' | 'private' | 'link-local' | 'metadata' | 'multicast' | 'unspecified' | 'reserved' | 'invalid';

type Range = [address: string, prefix: number, cls: Exclude<AddressClass, 'public' | 'invalid'>];

// Checked in order: the first match wins, so the specific metadata endpoints come first.
const V4_RANGES: Range[] = [
  ['169.254.169.254', 32, 'metadata'], // AWS, GCP, Azure, OpenStack
  ['100.100.100.200', 32, 'metadata'], // Alibaba Cloud
  ['0.0.0.0', 8, 'unspecified'],
  ['127.0.0.0', 8, 'loopback'],
  ['10.0.0.0', 8, 'private'],
  ['172.16.0.0', 12, 'private'],
  ['192.168.0.0', 16, 'private'],
  ['100.64.0.0', 10, 'private'], // carrier-grade NAT
  ['169.254.0.0', 16, 'link-local'],
  ['224.0.0.0', 4, 'multicast'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'reserved'],
  ['192.88.99.0', 24, 'reserved'],
  ['198.18.0.0', 15, 'reserved'],
  ['198.51.100.0', 24, 'reserved'],
  ['203.0.113.0', 24, 'reserved'],
  ['240.0.0.0', 4, 'reserved'], // includes 255.255.255.255
];

const V6_RANGES: Range[] = [
  ['fd00:ec2::254', 128, 'metadata'], // AWS over IPv6
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['fc00::', 7, 'private'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'private'], // deprecated site-local
  ['ff00::', 8, 'multicast'],
  // Transition prefixes can carry any IPv4 address inside (NAT64, 6to4, Teredo): refused outright.
  ['64:ff9b::', 96, 'reserved'],
  ['64:ff9b:1::', 48, 'reserved'],
  ['2002::', 16, 'reserved'],
  ['2001::', 23, 'reserved'],
  ['2001:db8::', 32, 'reserved'],
  ['100::', 64, 'reserved'],
];

function compile(ranges: Range[], family: 'ipv4' | 'ipv6'): Array<{ list: BlockList; cls: Range[2] }> {
  return ranges.map(([address, prefix, cls]) => {
    const list = new BlockList();
    list.addSubnet(address, prefix, family);
    return { list, cls };
  });
}

const V4 = compile(V4_RANGES, 'ipv4');
const V6 = compile(V6_RANGES, 'ipv6');
const GLOBAL_UNICAST_V6 = new BlockList();
GLOBAL_UNICAST_V6.addSubnet('2000::', 3, 'ipv6');

/** `::ffff:a.b.c.d` in any spelling → the IPv4 address inside, else undefined. */
function mappedV4(address: string): string | undefined {
  // WHATWG URL parsing canonicalises IPv6 text (::ffff:127.0.0.1 → ::ffff:7f00:1).
  let canonical: string;
  try {
    canonical = new URL(`http://[${address}]/`).hostname;
  } catch {
    return undefined;
  }
  const m = /^\[::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/.exec(canonical);
  if (!m) return undefined;
  const hi = parseInt(m[1], 16);
  const lo = parseInt(m[2], 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** Classifies an IP address (v4 or v6 text, IPv6 without brackets or zone). */
export function classifyAddress(address: string): AddressClass {
  // Brackets (URL form) and a zone index (fe80::1%eth0) do not change the class.
  const ip = address
    .trim()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/%.*$/, '');
  const family = isIP(ip);
  if (family === 4) return V4.find((r) => r.list.check(ip, 'ipv4'))?.cls ?? 'public';
  if (family !== 6) return 'invalid';
  const v4 = mappedV4(ip);
  if (v4) return classifyAddress(v4);
  const hit = V6.find((r) => r.list.check(ip, 'ipv6'));
  if (hit) return hit.cls;
  // Everything outside 2000::/3 (e.g. the deprecated ::a.b.c.d compatible form) is not unicast on the Internet.
  return GLOBAL_UNICAST_V6.check(ip, 'ipv6') ? 'public' : 'reserved';
}

/** undefined when the address may be contacted, else why not. */
export function refusedAddressReason(address: string): Exclude<AddressClass, 'public'> | undefined {
  const cls = classifyAddress(address);
  return cls === 'public' ? undefined : cls;
}
