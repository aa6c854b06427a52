import { describe, expect, it } from 'vitest';
import { parseCidr, sourceIpAllowed } from '../../../shared/credentials/cidr.ts';

describe('source IP ranges', () => {
  it.each([
    ['203.0.113.10', ['203.0.113.0/24'], true],
    ['203.0.114.10', ['203.0.113.0/24'], false],
    ['10.1.2.3', ['192.0.2.0/24', '10.0.0.0/8'], true],
    ['198.51.100.7', ['198.51.100.7'], true],
    ['198.51.100.8', ['198.51.100.7/32'], false],
    ['2001:db8::1', ['2001:db8::/32'], true],
    ['2001:db9::1', ['2001:db8::/32'], false],
    ['::ffff:10.1.2.3', ['10.0.0.0/8'], true],
    ['203.0.113.10', [], true],
  ] as const)('%s against %j → %s', (ip, cidrs, allowed) => {
    expect(sourceIpAllowed(ip, cidrs)).toBe(allowed);
  });

  it('fails closed when the source IP is unknown or unreadable', () => {
    expect(sourceIpAllowed(undefined, ['0.0.0.0/0'])).toBe(false);
    expect(sourceIpAllowed('not-an-ip', ['0.0.0.0/0'])).toBe(false);
  });

  it('ignores unreadable ranges instead of widening access', () => {
    expect(sourceIpAllowed('203.0.113.10', ['203.0.113.0/99', 'garbage'])).toBe(false);
  });

  it.each(['10.0.0.0/33', '10.0.0/8', '::/129', 'x/8', '10.0.0.0/-1'])('parseCidr refuses %s', (value) => {
    expect(parseCidr(value)).toBeUndefined();
  });
});
