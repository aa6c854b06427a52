import { BlockList, isIP } from 'node:net';

/** Parses `a.b.c.d/len` or `v6::/len` (a bare address is a /32 or /128); undefined when invalid. */
export function parseCidr(
  value: string,
): { readonly address: string; readonly prefix: number; readonly family: 'ipv4' | 'ipv6' } | undefined {
  const slash = value.indexOf('/');
  const address = slash < 0 ? value : value.slice(0, slash);
  const version = isIP(address);
  if (version === 0) return undefined;
  const max = version === 4 ? 32 : 128;
  const rawPrefix = slash < 0 ? String(max) : value.slice(slash + 1);
  if (!/^\d{1,3}$/.test(rawPrefix) || Number(rawPrefix) > max) return undefined;
  return { address, prefix: Number(rawPrefix), family: version === 4 ? 'ipv4' : 'ipv6' };
}

/**
 * Whether `sourceIp` falls in one of `cidrs`. node:net's BlockList does the matching (IPv4, IPv6,
 * and IPv4-mapped IPv6 addresses). An unknown source IP or an unreadable range never matches, so a
 * restricted credential fails closed.
 */
export function sourceIpAllowed(sourceIp: string | undefined, cidrs: readonly string[]): boolean {
  if (cidrs.length === 0) return true;
  if (sourceIp === undefined) return false;
  const version = isIP(sourceIp);
  if (version === 0) return false;
  const list = new BlockList();
  for (const cidr of cidrs) {
    const parsed = parseCidr(cidr);
    if (parsed !== undefined) list.addSubnet(parsed.address, parsed.prefix, parsed.family);
  }
  return list.check(sourceIp, version === 4 ? 'ipv4' : 'ipv6');
}
