/**
 * One spelling per client address, so an allowList matches the client however either side wrote
 * it: a dual-stack socket (what `app.listen(port)` opens) reports an IPv4 client as
 * `::ffff:10.1.2.3`, and an IPv6 address has many spellings (`::1`, `0:0:0:0:0:0:0:1`, upper case).
 */
import { invalidArgument } from '@ballast/core/adapter-kit';
import { ipv6Groups, mappedIpv4 } from './ip-bucket.js';

/**
 * `ip` in one spelling: an IPv4-mapped address as its IPv4 address, any other IPv6 address as its
 * eight groups in lower-case hex without a zone id, anything else unchanged.
 */
export function canonicalClientAddress(ip: string): string {
  const address = ip.split('%', 1)[0] as string;
  const groups = address.includes(':') ? ipv6Groups(address) : undefined;
  if (groups === undefined) return ip;
  return mappedIpv4(groups) ?? groups.map((group) => group.toString(16)).join(':');
}

/**
 * Whether a client IP is on `allowList`, comparing canonical addresses (see
 * {@link canonicalClientAddress}); an unknown IP never is. A list that is not strings throws
 * `INVALID_OPTIONS`.
 */
export function allowListMatcher(
  allowList: readonly string[],
): (ip: string | undefined) => boolean {
  if (!Array.isArray(allowList) || !allowList.every((ip) => typeof ip === 'string')) {
    throw invalidArgument('allowListMatcher()', 'allowList', 'an array of IP addresses');
  }
  const allowed = new Set(allowList.map(canonicalClientAddress));
  return (ip) => typeof ip === 'string' && allowed.has(canonicalClientAddress(ip));
}
