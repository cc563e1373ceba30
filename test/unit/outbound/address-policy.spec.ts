import { classifyAddress, refusedAddressReason } from '../../../gateway/src/outbound/address-policy';

// Pure: classifies address text, no DNS, no connection.
describe('address policy', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.254', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fd00::1', 'private'],
    ['169.254.169.254', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['169.254.10.10', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.10', 'reserved'],
    ['2002:7f00:1::1', 'reserved'], // 6to4 wrapping 127.0.0.1
    ['64:ff9b::a00:1', 'reserved'], // NAT64 wrapping 10.0.0.1
    ['::127.0.0.1', 'reserved'], // deprecated IPv4-compatible form
  ])('should refuse %s as %s', (address, cls) => {
    expect(classifyAddress(address)).toBe(cls);
    expect(refusedAddressReason(address)).toBe(cls);
  });

  it('should see through IPv4-mapped IPv6 in every spelling', () => {
    expect(refusedAddressReason('::ffff:127.0.0.1')).toBe('loopback');
    expect(refusedAddressReason('::ffff:7f00:1')).toBe('loopback');
    expect(refusedAddressReason('0:0:0:0:0:ffff:a00:1')).toBe('private');
    expect(refusedAddressReason('[::ffff:169.254.169.254]')).toBe('metadata');
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:2800:220:1:248:1893:25c8:1946', '::ffff:93.184.216.34'])(
    'should allow the public address %s',
    (address) => {
      expect(classifyAddress(address)).toBe('public');
      expect(refusedAddressReason(address)).toBeUndefined();
    },
  );

  it('should call anything that is not an IP address invalid', () => {
    expect(classifyAddress('example.com')).toBe('invalid');
    expect(classifyAddress('')).toBe('invalid');
    expect(classifyAddress('1.2.3')).toBe('invalid');
  });
});
