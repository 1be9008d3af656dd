/**
 * Which bucket an IP address counts against. An IPv4 address is one client; an IPv6 host
 * usually owns a whole /64 (often a /56), so counting each IPv6 address apart lets one client
 * send every request from a new address. express-rate-limit keys IPv6 by /56 for the same
 * reason; this is its rule without its dependency, so fetch runtimes can use it too.
 */

/** Prefix length an IPv6 address is counted by (express-rate-limit's default). */
export const ipv6BucketPrefixBits = 56;

const hextetPattern = /^[0-9a-f]{1,4}$/;
const ipv4Pattern = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function hextetsOfIpv4(ipv4: string): string[] {
  const [a = 0, b = 0, c = 0, d = 0] = ipv4.split('.').map(Number);
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
}

/** The eight 16-bit groups of an IPv6 address, or `undefined` when it is not one. */
export function ipv6Groups(address: string): number[] | undefined {
  const halves = address.toLowerCase().split('::');
  if (halves.length > 2) return undefined;
  const parts = halves.map((half) => (half === '' ? [] : half.split(':')));
  const last = parts[parts.length - 1] as string[];
  const tail = last[last.length - 1];
  if (tail?.includes('.')) {
    if (!ipv4Pattern.test(tail)) return undefined;
    last.splice(last.length - 1, 1, ...hextetsOfIpv4(tail));
  }
  const [head = [], rest = []] = parts;
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const hextets = [...head, ...Array<string>(halves.length === 1 ? 0 : missing).fill('0'), ...rest];
  if (!hextets.every((hextet) => hextetPattern.test(hextet))) return undefined;
  return hextets.map((hextet) => Number.parseInt(hextet, 16));
}

/** The IPv4 address an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) carries, or `undefined`. */
export function mappedIpv4(groups: readonly number[]): string | undefined {
  const isMapped = groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff;
  if (!isMapped) return undefined;
  const [high = 0, low = 0] = groups.slice(6);
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

/**
 * The bucket of `ip`: an IPv4 address as is (also when written IPv4-mapped, `::ffff:10.0.0.1`,
 * as a dual-stack socket reports it), an IPv6 address as its /56 (`2001:db8:1::/56`), and
 * anything else unchanged.
 */
export function ipBucket(ip: string): string {
  const address = ip.split('%', 1)[0] as string;
  const groups = address.includes(':') ? ipv6Groups(address) : undefined;
  if (groups === undefined) return ip;
  const ipv4 = mappedIpv4(groups);
  if (ipv4 !== undefined) return ipv4;
  const kept = Math.ceil(ipv6BucketPrefixBits / 16);
  const masked = groups.slice(0, kept).map((group, index) => {
    const bitsLeft = ipv6BucketPrefixBits - index * 16;
    return bitsLeft >= 16 ? group : group & (0xffff << (16 - bitsLeft)) & 0xffff;
  });
  while (masked.length > 0 && masked[masked.length - 1] === 0) masked.pop();
  const prefix = masked.map((group) => group.toString(16)).join(':');
  return `${prefix}${masked.length === 8 ? '' : '::'}/${ipv6BucketPrefixBits}`;
}
