import type { ThrottlerStorage } from '@nestjs/throttler';
import { clientAddress, UpgradeThrottle } from '../../../gateway/src/sessions/upgrade-throttle';

const req = (remote: string, xff?: string) =>
  ({ socket: { remoteAddress: remote }, headers: xff ? { 'x-forwarded-for': xff } : {} }) as never;

describe(clientAddress.name, () => {
  it('should be the peer without trusted proxies, whatever X-Forwarded-For says', () => {
    expect(clientAddress(req('10.0.0.1', '1.2.3.4'), () => false)).toBe('10.0.0.1');
  });

  it('should walk back through trusted hops only (Express req.ip rules)', () => {
    const oneHop = (_a: string, hop: number) => hop < 1;
    expect(clientAddress(req('10.0.0.1', '6.6.6.6, 1.2.3.4'), oneHop)).toBe('1.2.3.4');
    const all = () => true;
    expect(clientAddress(req('10.0.0.1', '6.6.6.6, 1.2.3.4'), all)).toBe('6.6.6.6');
    const lan = (a: string) => a.startsWith('10.');
    expect(clientAddress(req('10.0.0.1', '6.6.6.6, 10.0.0.9'), lan)).toBe('6.6.6.6');
    expect(clientAddress(req('10.0.0.1'), all)).toBe('10.0.0.1');
  });
});

describe(UpgradeThrottle.name, () => {
  const calls: [string, number, number][] = [];
  const storage: ThrottlerStorage = {
    increment: async (key, _ttl, limit) => {
      calls.push([key, limit, 0]);
      const hits = calls.filter((c) => c[0] === key).length;
      return { totalHits: hits, timeToExpire: 60, isBlocked: hits > limit, timeToBlockExpire: hits > limit ? 42 : 0 };
    },
  };

  it('should count per valid key, else per address, and block past the limit with a retry time', async () => {
    const sut = new UpgradeThrottle(storage, 2, ['good']);
    expect(await sut.check('bad', '1.1.1.1')).toEqual({ allowed: true });
    expect(await sut.check(undefined, '1.1.1.1')).toEqual({ allowed: true });
    expect(await sut.check('other-bad', '1.1.1.1')).toEqual({ allowed: false, retryAfterSeconds: 42 });
    expect(await sut.check('good', '1.1.1.1')).toEqual({ allowed: true });
    expect(await sut.check(undefined, '2.2.2.2')).toEqual({ allowed: true });
    // the store never sees a raw key or address
    for (const [key] of calls) expect(key).toMatch(/^[0-9a-f]{64}$/);
  });
});
