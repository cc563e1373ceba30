import { extractApiKey, isValidApiKey, rateLimitTracker } from '../../../gateway/src/api/api-key.util';
import { loadConfig } from '../../../gateway/src/config/config';

describe('API keys', () => {
  it('should read a Bearer token or an X-API-Key header', () => {
    expect(extractApiKey({ authorization: 'Bearer abc123' })).toBe('abc123');
    expect(extractApiKey({ authorization: 'bearer   abc123 ' })).toBe('abc123');
    expect(extractApiKey({ 'x-api-key': 'k2' })).toBe('k2');
    expect(extractApiKey({ authorization: 'Basic dXNlcjpwYXNz', 'x-api-key': 'k3' })).toBe('k3');
    expect(extractApiKey({ authorization: 'Basic dXNlcjpwYXNz' })).toBeUndefined();
    expect(extractApiKey({})).toBeUndefined();
  });

  it('should accept exactly the configured keys', () => {
    const keys = ['alpha', 'beta'];
    expect(isValidApiKey('alpha', keys)).toBe(true);
    expect(isValidApiKey('beta', keys)).toBe(true);
    expect(isValidApiKey('alph', keys)).toBe(false);
    expect(isValidApiKey('alphaa', keys)).toBe(false);
    expect(isValidApiKey(undefined, keys)).toBe(false);
    expect(isValidApiKey('alpha', [])).toBe(false);
  });

  it('should parse API_KEYS as a trimmed comma-separated list', () => {
    expect(loadConfig({ API_KEYS: ' one, two ,,three ' }).apiKeys).toEqual(['one', 'two', 'three']);
    expect(loadConfig({}).apiKeys).toEqual([]);
  });

  it('should track rate limits per configured key (hashed) and fall back to the IP', () => {
    const keys = ['secret-a', 'secret-b'];
    const a = rateLimitTracker({ 'x-api-key': 'secret-a' }, '1.2.3.4', keys);
    const b = rateLimitTracker({ authorization: 'Bearer secret-b' }, '1.2.3.4', keys);
    expect(a).not.toContain('secret');
    expect(a).not.toBe(b);
    expect(rateLimitTracker({ 'x-api-key': 'secret-a' }, '9.9.9.9', keys)).toBe(a);
    expect(rateLimitTracker({}, '1.2.3.4', keys)).toBe('ip:1.2.3.4');
  });

  it('should ignore keys that are not configured, so random keys cannot buy fresh buckets', () => {
    expect(rateLimitTracker({ 'x-api-key': 'random-1' }, '1.2.3.4', [])).toBe('ip:1.2.3.4');
    expect(rateLimitTracker({ authorization: 'Bearer random-2' }, '1.2.3.4', [])).toBe('ip:1.2.3.4');
    expect(rateLimitTracker({ 'x-api-key': 'not-a-key' }, '1.2.3.4', ['secret-a'])).toBe('ip:1.2.3.4');
  });
});
