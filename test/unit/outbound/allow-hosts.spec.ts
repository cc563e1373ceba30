import { isAllowlisted, literalHostRefusal, parseAllowHosts } from '../../../gateway/src/outbound/allow-hosts';
import { loadConfig } from '../../../gateway/src/config/config';

describe('OUTBOUND_ALLOW_HOSTS', () => {
  it('should parse hosts, IPs and IPv6 with and without ports', () => {
    expect(parseAllowHosts(' minio.lan, 10.0.0.5:9000,[FD00::5]:443 , Store.Example ')).toEqual([
      { host: 'minio.lan' },
      { host: '10.0.0.5', port: 9000 },
      { host: '[fd00::5]', port: 443 },
      { host: 'store.example' },
    ]);
    expect(parseAllowHosts(undefined)).toEqual([]);
    expect(parseAllowHosts('')).toEqual([]);
  });

  it.each(['http://minio.lan', 'minio.lan/path', 'user@minio.lan', '*.lan', 'minio.lan:99999', 'a b'])(
    'should refuse the entry %s',
    (entry) => {
      expect(() => parseAllowHosts(entry)).toThrow(/OUTBOUND_ALLOW_HOSTS/);
    },
  );

  it('should match the host exactly, and the port when the entry names one', () => {
    const entries = parseAllowHosts('minio.lan,127.0.0.1:9000,[::1]:8080');
    expect(isAllowlisted(new URL('http://MINIO.lan:1234/x'), entries)).toBe(true);
    expect(isAllowlisted(new URL('http://minio.lan.evil.com/x'), entries)).toBe(false);
    expect(isAllowlisted(new URL('http://127.0.0.1:9000/x'), entries)).toBe(true);
    expect(isAllowlisted(new URL('http://127.0.0.1:9001/x'), entries)).toBe(false);
    expect(isAllowlisted(new URL('http://127.0.0.2:9000/x'), entries)).toBe(false);
    expect(isAllowlisted(new URL('http://[::1]:8080/'), entries)).toBe(true);
    expect(isAllowlisted(new URL('http://[0:0::1]:8080/'), entries)).toBe(true); // canonical IPv6
    expect(isAllowlisted(new URL('https://127.0.0.1/'), parseAllowHosts('127.0.0.1:443'))).toBe(true); // default port
  });

  it('should refuse literal forbidden hosts before any connection unless allowlisted', () => {
    const entries = parseAllowHosts('127.0.0.1:9000');
    expect(literalHostRefusal(new URL('http://127.0.0.1:9000/'), entries)).toBeUndefined();
    expect(literalHostRefusal(new URL('http://127.0.0.1:9001/'), entries)).toMatch(/loopback/);
    expect(literalHostRefusal(new URL('http://[::1]/'), entries)).toMatch(/loopback/);
    expect(literalHostRefusal(new URL('http://169.254.169.254/latest/meta-data'), entries)).toMatch(/metadata/);
    expect(literalHostRefusal(new URL('http://0x7f000001/'), entries)).toMatch(/loopback/); // URL parsing normalises 0x7f000001
    expect(literalHostRefusal(new URL('http://localhost:9000/'), entries)).toMatch(/loopback/);
    expect(literalHostRefusal(new URL('http://93.184.216.34/'), entries)).toBeUndefined();
    expect(literalHostRefusal(new URL('http://files.example.com/'), entries)).toBeUndefined(); // checked per DNS answer
  });
});

describe('outbound and webhook configuration', () => {
  const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

  it('should accept a Standard Webhooks secret and keep the settings', () => {
    const c = loadConfig({
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_URL: 'https://hooks.example.com/x',
      OUTBOUND_ALLOW_HOSTS: 'minio.lan',
      WEBHOOK_MAX_ATTEMPTS: '3',
    });
    expect(c.webhooks).toMatchObject({ secret: SECRET, defaultUrl: 'https://hooks.example.com/x', maxAttempts: 3 });
    expect(c.outbound?.allowHosts).toEqual([{ host: 'minio.lan' }]);
  });

  it.each(['secret', 'whsec_', 'whsec_!!!!', `whsec_${Buffer.alloc(8).toString('base64')}`, Buffer.alloc(32).toString('base64')])(
    'should refuse WEBHOOK_SECRET=%s at boot',
    (secret) => {
      expect(() => loadConfig({ WEBHOOK_SECRET: secret })).toThrow(/WEBHOOK_SECRET/);
    },
  );

  it('should refuse a default webhook without a secret, a forbidden default webhook, and a bad allowlist', () => {
    expect(() => loadConfig({ WEBHOOK_URL: 'https://hooks.example.com/' })).toThrow(/WEBHOOK_SECRET/);
    expect(() => loadConfig({ WEBHOOK_SECRET: SECRET, WEBHOOK_URL: 'http://10.0.0.1/hook' })).toThrow(/private/);
    expect(() =>
      loadConfig({ WEBHOOK_SECRET: SECRET, WEBHOOK_URL: 'http://10.0.0.1/hook', OUTBOUND_ALLOW_HOSTS: '10.0.0.1' }),
    ).not.toThrow();
    expect(() => loadConfig({ OUTBOUND_ALLOW_HOSTS: 'http://x' })).toThrow(/OUTBOUND_ALLOW_HOSTS/);
    // webhooks are delivered with QUEUE=redis too (by the replicas that hold the secret)
    expect(loadConfig({ WEBHOOK_SECRET: SECRET, WEBHOOK_URL: 'https://hooks.example.com/', QUEUE: 'redis' }).webhooks).toMatchObject({
      defaultUrl: 'https://hooks.example.com/',
    });
  });
});
