import { loadConfig } from '../../../gateway/src/config/config';
import { parseTrustProxy } from '../../../gateway/src/config/trust-proxy';

describe(parseTrustProxy.name, () => {
  it('should trust nobody by default', () => {
    for (const t of [undefined, '', ' ', 'false', '0']) expect(parseTrustProxy(t)).toEqual({ value: false });
  });
  it('should read a hop count or a list of addresses and CIDR ranges', () => {
    expect(parseTrustProxy('1')).toEqual({ value: 1 });
    expect(parseTrustProxy('10.0.0.0/8, 127.0.0.1,::1, fd00::/8')).toEqual({ value: ['10.0.0.0/8', '127.0.0.1', '::1', 'fd00::/8'] });
  });
  it('should refuse anything else, and loadConfig with it', () => {
    for (const t of ['yes', '10.0.0.0/33', '300.1.1.1', '::1/129', '11', '1.2.3.4/8/1']) expect(parseTrustProxy(t)).toHaveProperty('error');
    expect(() => loadConfig({ TRUST_PROXY: 'everyone' })).toThrow(/TRUST_PROXY/);
  });
});
